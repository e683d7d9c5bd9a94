using System.Net.Http.Json;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Cli;

/// <summary>
/// <c>exbridge status</c> with the operator key prints why a binding is err and when it is tried next, finding the tenant
/// by itself: a demo server whose simulator's admin password changes after the import is done.
/// </summary>
public sealed class StatusReasonTests : IAsyncLifetime
{
    private const string Mailbox = "email_account_example@outlook.com";
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-reason-test-").FullName;
    private ServerProcess _server = null!;

    public async Task InitializeAsync() => _server = await ServerProcess.StartAsync(environment: new Dictionary<string, string>
    {
        ["ExchangeBridge__Import__SyncIntervalSeconds"] = "1",
        ["ExchangeBridge__Import__PollMilliseconds"] = "100",
    });

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Status_with_the_operator_key_prints_the_reason_and_the_next_attempt_of_an_err_binding()
    {
        var cli = new Exbridge(_server, _folder);
        var csv = Path.Combine(_folder, "mapping.csv");
        await File.WriteAllLinesAsync(csv, ["exchange_account,user_id", $"{Mailbox},demo_employee"]);
        Assert.Equal(0, (await cli.RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount)).ExitCode);
        var bindingId = Ids.Binding(ServerProcess.DemoAdminAccount, Mailbox);
        await UntilStatusAsync(bindingId, "done");

        using (var rotate = new HttpRequestMessage(HttpMethod.Post, $"/admin/v1/demo/simulator/admins/{ServerProcess.DemoAdminAccount}/password")
               {
                   Content = JsonContent.Create(new { password = "rotated-in-exchange" }),
               })
        {
            rotate.Headers.Authorization = new("Bearer", _server.Bootstrap.OperatorKey);
            (await _server.Http.SendAsync(rotate)).EnsureSuccessStatusCode();
        }
        await UntilStatusAsync(bindingId, "err");

        var status = await cli.RunAsync("status", bindingId);
        Assert.Equal(1, status.ExitCode); // err
        var row = Assert.Single(status.Stdout.Split('\n'), line => line.Contains(Mailbox, StringComparison.Ordinal)); // redirected: no wrapping
        Assert.Contains("err", row);
        Assert.Contains("Unauthorized", row);
        Assert.Contains("Register the admin account again", row);
        Assert.Matches(@"Next attempt \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z", row);
    }

    /// <summary>Reads the operator's view until the binding shows <paramref name="status"/> (its job at rest), for at most a minute.</summary>
    private async Task UntilStatusAsync(string bindingId, string status)
    {
        using var operators = _server.OperatorClient();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var diagnostics = await operators.GetBindingDiagnosticsAsync(_server.Bootstrap.TenantKey, bindingId);
            if (diagnostics.Status == status && diagnostics.Jobs.All(j => j.LeaseOwner is null)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the binding stayed {diagnostics.Status}, not {status}");
            await Task.Delay(100);
        }
    }
}
