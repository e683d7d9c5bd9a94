// Binds the seed page's example account as the super administrator, through the typed client.
// Usage: CreateBinding <base address> <app_id> <app_secret> <authorization code>
using ExchangeBridge.Client;

if (args is not [var baseAddress, var appId, var appSecret, var code])
{
    Console.Error.WriteLine("usage: CreateBinding <base address> <app_id> <app_secret> <authorization code>");
    return 2;
}

using var feishu = new FeishuClient(new FeishuClientOptions { BaseAddress = new(baseAddress), AppId = appId, AppSecret = appSecret });
await feishu.ExchangeAuthorizationCodeAsync(code);   // a super administrator's; refreshed when it expires
var binding = await feishu.CreateExchangeBindingAsync(new("email_admin_example@outlook.com", "email_account_example@outlook.com", "ou_xxxxxxxxxxxxxxxxxx"));
Console.WriteLine($"{binding.ExchangeBindingId} {binding.Status}");
return 0;
