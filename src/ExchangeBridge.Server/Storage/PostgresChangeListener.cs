using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Hears what other instances' writes touched: LISTENs on a dedicated connection (outside the pool: a pooled session
/// would be handed to readers) and announces each notification to this instance's <see cref="ChangeFeed"/>. When the
/// connection drops it makes the caches stop answering, reconnects with back-off, and on reconnecting has everything
/// forgotten before the caches answer again: what committed meanwhile was not heard.
/// </summary>
internal sealed partial class PostgresChangeListener : IAsyncDisposable
{
    public const string Channel = "exchangebridge_changes";
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    private readonly string _connectionString;
    private readonly string _ownPrefix;
    private readonly ChangeFeed _changes;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PostgresChangeListener(string connectionString, string instanceId, ChangeFeed changes, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            // A connection that died without a word (a network cut) is found within seconds, not at the next notification.
            KeepAlive = 2,
            ApplicationName = "exchangebridge-listener",
        }.ConnectionString;
        _ownPrefix = instanceId + " ";
        _changes = changes;
        _loop = Task.Run(ListenAsync);
    }

    private async Task ListenAsync()
    {
        var retry = FirstRetry;
        var dropped = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(_connectionString);
                connection.Notification += (_, e) => Heard(e.Payload);
                await connection.OpenAsync(_stop.Token);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(_stop.Token);
                _changes.Hearing();
                if (dropped) ListeningAgain(_logger);
                dropped = false;
                retry = FirstRetry;
                while (true) await connection.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception failure)
            {
                // Whatever broke the connection (the server restarted, the network, a failover), this instance is deaf
                // until it listens again: a loop that ended here would leave the caches answering stale.
                _changes.Deaf();
                dropped = true;
                // The exception's type and message only: Npgsql's messages name the host, never the password.
                Deafened(_logger, failure.GetType().Name, failure.Message, retry.TotalMilliseconds);
                try
                {
                    await Task.Delay(retry, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
            }
        }
    }

    private void Heard(string payload)
    {
        // This instance announced its own writes when they committed.
        if (payload.StartsWith(_ownPrefix, StringComparison.Ordinal)) return;
        var space = payload.IndexOf(' ');
        _changes.Announce(Touched.FromPayload(space < 0 ? payload : payload.AsSpan(space + 1)));
    }

    /// <summary>Stops listening; harmless to call again (the host's stop and its container both dispose the database).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Lost the PostgreSQL change channel ({Failure}: {Reason}); caches answer from the database until it listens again, next try in {RetryMs} ms")]
    private static partial void Deafened(ILogger logger, string failure, string reason, double retryMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening to the PostgreSQL change channel again; every cache was emptied first")]
    private static partial void ListeningAgain(ILogger logger);
}
