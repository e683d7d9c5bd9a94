using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

public sealed class RestartTests
{
    private const string Path = "/open-apis/calendar/v4/exchange_bindings";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    [Fact]
    public async Task Bindings_tokens_and_credentials_survive_a_restart_on_the_same_folder()
    {
        string userToken, bootstrapBefore;
        // One folder and one database for both lives of the server (the database on PostgreSQL runs; null on SQLite, which lives in the folder).
        var dataDir = Directory.CreateTempSubdirectory("exbridge-restart-").FullName;
        var postgres = TestDatabases.CreatePostgresDatabase();
        await using (var first = new TestServer(dataDir, postgresConnectionString: postgres))
        {
            bootstrapBefore = File.ReadAllText(System.IO.Path.Combine(dataDir, "bootstrap.json"));
            userToken = await first.AdminUserTokenAsync();
            await JsonAssert.SuccessAsync(await first.SendAsync(HttpMethod.Post, Path,
                """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""",
                userToken));
        }

        await using (var second = new TestServer(dataDir, postgresConnectionString: postgres))
        {
            Assert.Equal(bootstrapBefore, File.ReadAllText(System.IO.Path.Combine(dataDir, "bootstrap.json")));
            var got = await JsonAssert.SuccessAsync(await second.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, userToken));
            Assert.Equal("ou_xxxxxxxxxxxxxxxxxx", got["data"]!["user_id"]!.GetValue<string>());
            // The app secret was encrypted with the key kept in the folder: it still authenticates.
            Assert.StartsWith("t-", await second.TenantTokenAsync());
        }
        TestDatabases.DropPostgresDatabase(postgres);
        Directory.Delete(dataDir, recursive: true);
    }

    [Fact]
    public async Task Secrets_never_reach_the_database_file_in_clear()
    {
        await using var server = new TestServer();
        var userToken = await server.AdminUserTokenAsync();
        await server.SendAsync(HttpMethod.Put, $"/admin/v1/tenants/{server.Bootstrap.TenantKey}/exchange_admin_accounts/svc@contoso.com",
            """{"connector":"ews","endpoint":"http://127.0.0.1:9/EWS/Exchange.asmx","password":"Sup3r-Secret-Exchange-Pa55"}""",
            server.Bootstrap.OperatorKey);

        using var certificate = ExchangeBridge.ExchangeSimulator.SimulatorCertificate.CreateClientCertificate();
        var pem = ExchangeBridge.ExchangeSimulator.SimulatorCertificate.ToPemWithKey(certificate);
        await server.SendAsync(HttpMethod.Put, $"/admin/v1/tenants/{server.Bootstrap.TenantKey}/exchange_admin_accounts/graph@contoso.com",
            System.Text.Json.JsonSerializer.Serialize(new { connector = "graph", endpoint = "https://127.0.0.1:9/v1.0", graph_tenant_id = "t",
                graph_client_id = "c", client_certificate = pem }), server.Bootstrap.OperatorKey);
        var privateKeyLine = pem.Split('\n').SkipWhile(l => !l.Contains("PRIVATE KEY")).Skip(5).First();

        var database = (ExchangeBridge.Server.Storage.IDatabase)server.Services.GetService(typeof(ExchangeBridge.Server.Storage.IDatabase))!;
        var text = await StoredTextAsync(server, database);
        Assert.Contains("graph@contoso.com", text);
        Assert.DoesNotContain(privateKeyLine, text);
        Assert.DoesNotContain(server.Bootstrap.AppSecret, text);
        Assert.DoesNotContain(server.Bootstrap.OperatorKey, text);
        Assert.DoesNotContain("Sup3r-Secret-Exchange-Pa55", text);
        Assert.DoesNotContain(userToken, text);
    }

    /// <summary>
    /// Everything the database holds, as text: on SQLite the raw bytes of its files (after a checkpoint), on PostgreSQL
    /// every row of every table.
    /// </summary>
    private static async Task<string> StoredTextAsync(TestServer server, ExchangeBridge.Server.Storage.IDatabase database)
    {
        await using var connection = await database.OpenAsync();
        await using var command = connection.CreateCommand();
        if (server.PostgresConnectionString is null)
        {
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await command.ExecuteNonQueryAsync();
            var files = Directory.GetFiles(server.DataDir, "exchangebridge.db*");
            return System.Text.Encoding.UTF8.GetString(files.SelectMany(File.ReadAllBytes).ToArray());
        }
        command.CommandText = "SELECT string_agg(t::text, E'\n') FROM (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public') s, " +
                              "LATERAL (SELECT query_to_xml('SELECT * FROM ' || quote_ident(s.table_name), true, false, '')::text AS t) x";
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
