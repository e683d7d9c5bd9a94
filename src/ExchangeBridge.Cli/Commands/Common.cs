using System.CommandLine;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;

namespace ExchangeBridge.Cli.Commands;

internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Some rows or bindings failed, or the service refused the request.</summary>
    public const int Failed = 1;

    /// <summary>The command was called or configured wrongly, or its input file cannot be used; nothing was sent.</summary>
    public const int Usage = 2;

    public const int Interrupted = 130;
}

internal static class Commands
{
    /// <summary>Runs a command's body, turning the failures every command shares into a line on standard error and an exit code.</summary>
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (UsageException e)
        {
            CliConsole.Error($"exbridge: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Binding.MappingFileException e)
        {
            CliConsole.Error($"exbridge: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (FeishuApiException e)
        {
            CliConsole.Error($"exbridge: the server refused: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (HttpRequestException e)
        {
            CliConsole.Error($"exbridge: cannot reach the server: {e.Message}");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException)
        {
            CliConsole.Error("exbridge: interrupted");
            return ExitCodes.Interrupted;
        }
    }
}

internal static class Options
{
    public static Option<string> UserIdType(string description)
    {
        var option = new Option<string>("--user-id-type")
        {
            Description = $"{description}: user_id, open_id or union_id",
            DefaultValueFactory = _ => "user_id",
        };
        option.AcceptOnlyFromAmong("user_id", "open_id", "union_id");
        return option;
    }

    public static UserIdType ParseUserIdType(string? wire) => wire switch
    {
        "open_id" => Client.UserIdType.OpenId,
        "union_id" => Client.UserIdType.UnionId,
        _ => Client.UserIdType.UserId,
    };

    public static Option<bool> Json() => new("--json") { Description = "Answer in JSON instead of a table" };
}
