using Spectre.Console;

namespace ExchangeBridge.Cli.Output;

/// <summary>
/// Where output goes. On a terminal (standard output not redirected) Spectre.Console draws live displays with ANSI
/// escapes; anywhere else output is plain text, line by line, with no escapes, for logs and pipes.
/// </summary>
internal static class CliConsole
{
    public static bool IsTerminal => !Console.IsOutputRedirected;

    private static readonly Lazy<IAnsiConsole> Shared = new(() =>
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = IsTerminal ? AnsiSupport.Yes : AnsiSupport.No,
            ColorSystem = IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsTerminal ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        // A file or a pipe has no width: keep each row on one line (ids whole, for copying), as wide as it needs.
        if (!IsTerminal) console.Profile.Width = 1000;
        return console;
    });

    /// <summary>Standard output through Spectre.Console (tables, live displays).</summary>
    public static IAnsiConsole Out => Shared.Value;

    /// <summary>Problems and diagnostics: standard error, plain.</summary>
    public static void Error(string message) => Console.Error.WriteLine(message);
}
