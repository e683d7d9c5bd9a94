using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;
using Spectre.Console;

namespace ExchangeBridge.Cli.Commands;

/// <summary>
/// The operator API of a self-hosted ExchangeBridge (<c>--operator-key</c>): tenants, apps, users, Exchange admin
/// accounts, authorization codes. Each answers the server's object as JSON (a list as a table unless <c>--json</c>).
/// </summary>
internal static class OperatorCommands
{
    public static IEnumerable<Command> Create() => [Tenants(), Apps(), Users(), AdminAccounts(), Codes(), Retry()];

    private static Option<string> TenantOption() => new("--tenant")
    {
        Required = true,
        Description = "The tenant_key",
    };

    private static Command Tenants()
    {
        var name = new Option<string>("--name") { Required = true, Description = "The tenant's name" };
        var key = new Option<string?>("--tenant-key") { Description = "Its tenant_key (default: generated)" };
        var create = new Command("create", "Create a tenant") { name, key };
        create.SetAction((parse, ct) => Operator(parse, async client =>
            Print(await client.CreateTenantAsync(new CreateTenantRequest(parse.GetRequiredValue(name), parse.GetValue(key)), ct),
                CliJsonContext.Default.Tenant)));

        var json = Options.Json();
        var list = new Command("list", "List tenants") { json };
        list.SetAction((parse, ct) => Operator(parse, async client =>
        {
            var tenants = await client.ListTenantsAsync(ct);
            if (parse.GetValue(json)) return Print(tenants, CliJsonContext.Default.IReadOnlyListTenant);
            var table = new Table().AddColumns("tenant_key", "name");
            foreach (var t in tenants) table.AddRow(Markup.Escape(t.TenantKey), Markup.Escape(t.Name));
            CliConsole.Out.Write(table);
            return ExitCodes.Ok;
        }));
        return new Command("tenants", "Tenants (operator API)") { create, list };
    }

    private static Command Apps()
    {
        var tenant = TenantOption();
        var name = new Option<string>("--name") { Required = true, Description = "The app's name" };
        var scopes = new Option<string[]>("--scope") { Description = "A scope to grant (repeatable; default: the server's default set)" };
        var create = new Command("create", "Create an app; its secret is shown once") { tenant, name, scopes };
        create.SetAction((parse, ct) => Operator(parse, async client =>
        {
            var granted = parse.GetValue(scopes) is { Length: > 0 } s ? s : null;
            return Print(await client.CreateAppAsync(parse.GetRequiredValue(tenant), new CreateAppRequest(parse.GetRequiredValue(name), granted), ct),
                CliJsonContext.Default.CreatedApp);
        }));
        return new Command("apps", "Apps (operator API)") { create };
    }

    private static Command Users()
    {
        var tenant = TenantOption();
        var name = new Option<string>("--name") { Required = true, Description = "The user's name" };
        var userId = new Option<string?>("--user-id") { Description = "Its user_id (default: generated)" };
        var email = new Option<string?>("--email") { Description = "Its email address" };
        var superAdmin = new Option<bool>("--super-admin") { Description = "Make the user a super administrator" };
        var create = new Command("create", "Create a user (it gets an open_id for every app of its tenant)") { tenant, name, userId, email, superAdmin };
        create.SetAction((parse, ct) => Operator(parse, async client =>
            Print(await client.CreateUserAsync(parse.GetRequiredValue(tenant), new CreateUserRequest(parse.GetRequiredValue(name),
                parse.GetValue(userId), parse.GetValue(email), parse.GetValue(superAdmin) ? true : null), ct), CliJsonContext.Default.OperatorUser)));
        return new Command("users", "Users (operator API)") { create };
    }

    private static Command AdminAccounts()
    {
        var tenant = TenantOption();
        var email = new Option<string>("--email") { Required = true, Description = "The admin account's address" };
        var endpoint = new Option<string>("--endpoint") { Required = true, Description = "EWS: the Exchange.asmx URL; graph: the Graph endpoint" };
        var connector = new Option<string>("--connector") { Description = "ews or graph", DefaultValueFactory = _ => "ews" };
        connector.AcceptOnlyFromAmong("ews", "graph");
        var username = new Option<string?>("--username") { Description = "EWS: the user name (default: the address)" };
        var password = new Option<string?>("--password") { Description = "EWS: the password [env: EXBRIDGE_EXCHANGE_PASSWORD]" };
        var clientSecret = new Option<string?>("--client-secret") { Description = "graph: the client secret [env: EXBRIDGE_EXCHANGE_CLIENT_SECRET]" };
        var graphTenant = new Option<string?>("--graph-tenant-id") { Description = "graph: the Entra tenant id" };
        var graphClient = new Option<string?>("--graph-client-id") { Description = "graph: the app registration's client id" };
        var cleartext = new Option<bool>("--allow-cleartext-password")
        {
            Description = "EWS: accept that the password travels in clear to a plain http:// endpoint",
        };
        var put = new Command("put", "Register (or replace) an Exchange admin account and verify it")
        {
            tenant, email, endpoint, connector, username, password, clientSecret, graphTenant, graphClient, cleartext,
        };
        put.SetAction((parse, ct) => Operator(parse, async client =>
        {
            var request = new ExchangeAdminAccountRequest(parse.GetRequiredValue(endpoint), parse.GetValue(connector), parse.GetValue(username),
                parse.GetValue(password) ?? Environment.GetEnvironmentVariable("EXBRIDGE_EXCHANGE_PASSWORD"),
                parse.GetValue(clientSecret) ?? Environment.GetEnvironmentVariable("EXBRIDGE_EXCHANGE_CLIENT_SECRET"),
                parse.GetValue(graphTenant), parse.GetValue(graphClient), parse.GetValue(cleartext) ? true : null);
            var account = await client.PutExchangeAdminAccountAsync(parse.GetRequiredValue(tenant), parse.GetRequiredValue(email), request, ct);
            Print(account, CliJsonContext.Default.ExchangeAdminAccount);
            if (account.VerificationState != "failed") return ExitCodes.Ok;
            CliConsole.Error($"exbridge: registered, but verification failed: {account.VerificationError}");
            return ExitCodes.Failed;
        }));
        return new Command("admin-accounts", "Exchange admin accounts (operator API)") { put };
    }

    private static Command Codes()
    {
        var userId = new Option<string?>("--user-id") { Description = "The user by user_id (instead of --open-id)" };
        var redirectUri = new Option<string?>("--redirect-uri") { Description = "The redirect URI the code is bound to" };
        var json = Options.Json();
        var mint = new Command("mint", "Mint a single-use authorization code for a user of --app-id (--open-id or --user-id)")
        {
            userId, redirectUri, json,
        };
        mint.SetAction((parse, ct) => Operator(parse, async client =>
        {
            var connection = new Connection(parse);
            var appId = connection.AppIdValue ?? throw new UsageException("codes mint needs --app-id (or EXBRIDGE_APP_ID)");
            var user = parse.GetValue(userId);
            // EXBRIDGE_OPEN_ID names the administrator the CLI acts as; an explicit --user-id names someone else.
            var openId = user is not null && parse.GetResult(Connection.OpenId) is null ? null : connection.OpenIdValue;
            if (openId is null == user is null) throw new UsageException("codes mint needs one of --open-id and --user-id");
            var code = await client.MintAuthorizationCodeAsync(new MintAuthorizationCodeRequest(appId, openId, user, parse.GetValue(redirectUri)), ct);
            if (parse.GetValue(json)) return Print(code, CliJsonContext.Default.AuthorizationCode);
            Console.Out.WriteLine(code.Code);
            return ExitCodes.Ok;
        }));
        return new Command("codes", "Authorization codes (operator API)") { mint };
    }

    private static Command Retry()
    {
        var tenant = TenantOption();
        var ids = new Argument<string[]>("exchange_binding_id")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "Bindings by id (default: every binding of the tenant that is err or retrying after a fault)",
        };
        var retry = new Command("retry", "Try bindings again now instead of at their next scheduled attempt (operator API)") { tenant, ids };
        retry.SetAction((parse, ct) => Operator(parse, async client =>
        {
            var named = parse.GetValue(ids) ?? [];
            var retried = 0;
            foreach (var request in named.Length == 0 ? [new RetryBindingsRequest()] : named.Select(id => new RetryBindingsRequest(id)))
                retried += (await client.RetryExchangeBindingsAsync(parse.GetRequiredValue(tenant), request, ct)).Retried;
            Console.Out.WriteLine($"{retried} binding(s) to be tried again now");
            return ExitCodes.Ok;
        }));
        return retry;
    }

    private static Task<int> Operator(ParseResult parse, Func<ExchangeBridgeOperatorClient, Task<int>> body) => Commands.Run(async () =>
    {
        using var client = new Connection(parse).OperatorClient();
        return await body(client);
    });

    private static int Print<T>(T value, JsonTypeInfo<T> type)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, type));
        return ExitCodes.Ok;
    }
}
