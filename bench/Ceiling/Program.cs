// Bare Kestrel, same bytes as the server's answer to GET a binding, no middleware, no work: what this machine can do.
var answer = "{\"code\":0,\"msg\":\"success\",\"data\":{\"admin_account\":\"email_admin_example@outlook.com\",\"exchange_account\":\"email_account_example@outlook.com\",\"user_id\":\"ou_xxxxxxxxxxxxxxxxxx\",\"status\":\"doing\",\"exchange_binding_id\":\"ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=\"}}"u8.ToArray();
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.Run(async context =>
{
    context.Response.ContentType = "application/json; charset=utf-8";
    context.Response.ContentLength = answer.Length;
    await context.Response.Body.WriteAsync(answer);
});
app.Run();
