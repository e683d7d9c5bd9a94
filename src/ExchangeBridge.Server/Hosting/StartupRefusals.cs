using Microsoft.AspNetCore.Connections;

namespace ExchangeBridge.Server.Hosting;

/// <summary>A reason not to start that the operator fixes (a setting, a data folder in use): the message says it all.</summary>
public sealed class StartupRefusedException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// A refused start reads as one line on standard error and a non-zero exit code, not as a crash: the operator has
/// something to fix, not a bug to report. Anything else that stops the start keeps its stack trace.
/// </summary>
public static class StartupRefusals
{
    /// <summary>The exit code of a refused start (a crash exits with the runtime's own code).</summary>
    public const int ExitCode = 2;

    private static int _installed;

    /// <summary>Call first: refusals thrown from here on print one line and exit.</summary>
    public static WebApplicationBuilder RefuseStartupInOneLine(this WebApplicationBuilder builder)
    {
        // Once per process: the tests' in-process hosts run this for every server they build.
        if (Interlocked.Exchange(ref _installed, 1) == 0) AppDomain.CurrentDomain.UnhandledException += PrintRefusalAndExit;
        // The host logs a failed start with its stack trace before throwing it (event 11, an error); the exception is
        // still reported, as one line if it is a refusal, else by the runtime. The host's one other error, a crashed
        // background service (event 9), is repeated as a critical (event 10), which stays.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        return builder;
    }

    private static void PrintRefusalAndExit(object sender, UnhandledExceptionEventArgs e)
    {
        if (e.ExceptionObject is not Exception exception || Describe(exception) is not { } reason) return;
        System.Console.Error.WriteLine($"ExchangeBridge refused to start: {reason}");
        // Exiting here, before the runtime prints the exception. Safe: a refusal ends the host before it runs, or after
        // it has been disposed, so no shutdown handler is waiting on this thread.
        Environment.Exit(ExitCode);
    }

    /// <summary>The line a refusal prints, or null for an exception that is not one.</summary>
    private static string? Describe(Exception exception) => exception switch
    {
        StartupRefusedException => exception.Message,
        // Kestrel's own message names the address: "Failed to bind to address http://127.0.0.1:8080: address already in use."
        IOException { InnerException: AddressInUseException } => $"{exception.Message} Stop what holds it or choose another --urls.",
        _ => null,
    };

    /// <summary>
    /// Runs a start-up step whose <see cref="InvalidOperationException"/> names something the operator fixes (a
    /// setting out of range or of the wrong type, a data folder owned by another server): it becomes a refusal.
    /// </summary>
    public static T RefuseIfInvalid<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (InvalidOperationException e)
        {
            throw new StartupRefusedException(e.Message, e);
        }
    }
}
