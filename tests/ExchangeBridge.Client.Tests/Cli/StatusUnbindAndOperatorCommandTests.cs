using System.Text.Json;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Cli;

/// <summary>
/// <c>exbridge status</c>, <c>unbind</c> and the operator commands against a running server, each checked against what
/// the server itself answers afterwards.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class StatusUnbindAndOperatorCommandTests(SharedServer fixture) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-status-test-").FullName;

    private ServerProcess Server => fixture.Server;
    private Exbridge Cli => new(Server, _folder);

    [Fact]
    public async Task Status_shows_each_bound_row_then_unbind_removes_them_and_status_reports_each_as_gone()
    {
        var users = Enumerable.Range(1, 6).Select(i => $"status-user-{i}").ToList();
        await Server.CreateUsersAsync(users);
        var csv = Path.Combine(_folder, "mapping.csv");
        await File.WriteAllLinesAsync(csv, ["exchange_account,user_id", .. users.Select(u => $"{u}@status.example,{u}")]);
        var bind = await Cli.RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount);
        Assert.True(bind.ExitCode == 0, bind.ToString());
        var results = Path.ChangeExtension(csv, ".results.csv");

        var status = await Cli.RunAsync("status", "--csv", results, "--json", "--user-id-type", "user_id");

        Assert.True(status.ExitCode == 0, status.ToString());
        var rows = JsonDocument.Parse(status.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(users.Select(u => Ids.Binding(ServerProcess.DemoAdminAccount, $"{u}@status.example")).Order(),
            rows.Select(r => r.GetProperty("exchange_binding_id").GetString()).Order());
        foreach (var row in rows)
        {
            Assert.Equal("doing", row.GetProperty("status").GetString());
            Assert.StartsWith(row.GetProperty("user_id").GetString()!, row.GetProperty("exchange_account").GetString());
        }

        var unbind = await Cli.RunAsync("unbind", "--csv", results);

        Assert.True(unbind.ExitCode == 0, unbind.ToString());
        using var client = await Server.SuperAdminClientAsync();
        foreach (var user in users)
        {
            var gone = await Assert.ThrowsAsync<FeishuApiException>(() =>
                client.GetExchangeBindingAsync(Ids.Binding(ServerProcess.DemoAdminAccount, $"{user}@status.example")));
            Assert.Equal(195103, gone.Code);
        }

        var after = await Cli.RunAsync("status", "--csv", results, "--json");

        Assert.True(after.ExitCode == 1, after.ToString()); // 1: some bindings could not be read
        Assert.All(JsonDocument.Parse(after.Stdout).RootElement.EnumerateArray(), row => Assert.Equal(195103, row.GetProperty("code").GetInt32()));
    }

    [Fact]
    public async Task A_user_made_with_the_operator_commands_can_be_bound_and_given_a_code()
    {
        var userId = "operator-made-" + Guid.NewGuid().ToString("N")[..8];

        var created = await Cli.RunAsync("users", "create", "--tenant", Server.Bootstrap.TenantKey, "--name", "Made By Operator", "--user-id", userId);

        Assert.True(created.ExitCode == 0, created.ToString());
        var csv = Path.Combine(_folder, "one.csv");
        await File.WriteAllLinesAsync(csv, ["exchange_account,user_id", $"{userId}@operator.example,{userId}"]);
        var bind = await Cli.RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount);
        Assert.True(bind.ExitCode == 0, bind.ToString());
        using var client = await Server.SuperAdminClientAsync();
        var binding = await client.GetExchangeBindingAsync(Ids.Binding(ServerProcess.DemoAdminAccount, $"{userId}@operator.example"), UserIdType.UserId);
        Assert.Equal(userId, binding.UserId);

        var code = await Cli.RunAsync("codes", "mint", "--user-id", userId);
        Assert.True(code.ExitCode == 0, code.ToString());
        Assert.Matches("^[A-Za-z0-9]{16,}$", code.Stdout.Trim());

        var unknown = await Cli.RunAsync("codes", "mint", "--user-id", "nobody-" + userId);
        Assert.NotEqual(0, unknown.ExitCode);
    }

    [Fact]
    public async Task Status_with_the_tenant_shows_the_operators_view_and_retry_names_what_it_moved()
    {
        var userId = "retry-user-" + Guid.NewGuid().ToString("N")[..8];
        await Server.CreateUsersAsync([userId]);
        var csv = Path.Combine(_folder, "retry.csv");
        await File.WriteAllLinesAsync(csv, ["exchange_account,user_id", $"{userId}@retry.example,{userId}"]);
        Assert.Equal(0, (await Cli.RunAsync("bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount)).ExitCode);
        var bindingId = Ids.Binding(ServerProcess.DemoAdminAccount, $"{userId}@retry.example");

        var status = await Cli.RunAsync("status", bindingId, "--tenant", Server.Bootstrap.TenantKey, "--json");
        Assert.True(status.ExitCode == 0, status.ToString());
        var sync = JsonDocument.Parse(status.Stdout).RootElement[0].GetProperty("sync");
        Assert.Equal(bindingId, sync.GetProperty("exchange_binding_id").GetString());
        Assert.Equal("import", sync.GetProperty("jobs")[0].GetProperty("kind").GetString());

        // A binding that has not failed is not moved (this server runs no worker, so nothing fails here).
        var retry = await Cli.RunAsync("retry", "--tenant", Server.Bootstrap.TenantKey, bindingId);
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Equal("0 binding(s) to be tried again now", retry.Stdout.Trim());
        var unknown = await Cli.RunAsync("retry", "--tenant", Server.Bootstrap.TenantKey, Ids.Binding(ServerProcess.DemoAdminAccount, "nobody@retry.example"));
        Assert.NotEqual(0, unknown.ExitCode);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
