using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http;

namespace ExchangeBridge.Tests.Wire;

public sealed class FeishuJsonTests
{
    /// <summary>A week of free/busy for a hundred users: ~280 KB, past what a thread keeps.</summary>
    private static readonly Envelope<FreeBusyBatchData> LargeAnswer = Envelope.Success(new FreeBusyBatchData(
        [.. Enumerable.Range(0, 100).Select(u => new UserFreeBusy($"user-{u:000}",
            [.. Enumerable.Range(0, 33).Select(i => new FreeBusyItem($"2026-11-30T{i % 24:00}:00:00+08:00", $"2026-11-30T{i % 24:00}:30:00+08:00"))]))]));

    private static readonly Envelope<EmptyData> SmallAnswer = Envelope.Success(new EmptyData());

    [Fact]
    public async Task A_large_answer_goes_out_whole_with_its_length_even_when_the_thread_serves_another_answer_during_the_write()
    {
        var expected = FeishuJson.Serialize(LargeAnswer, FeishuJsonContext.Default.EnvelopeFreeBusyBatchData);
        Assert.True(expected.Length > 200_000);

        // The write does not finish at once, and meanwhile this thread writes another answer, as Kestrel's thread would.
        var body = new InterleavingStream(() => FeishuJson.Serialize(SmallAnswer, FeishuJsonContext.Default.EnvelopeEmptyData));
        var context = new DefaultHttpContext();
        context.Response.Body = body;
        await FeishuJson.WriteAsync(context.Response, LargeAnswer, FeishuJsonContext.Default.EnvelopeFreeBusyBatchData, CancellationToken.None);

        Assert.Equal(expected.Length, context.Response.ContentLength);
        Assert.Equal(expected, body.ToArray());
        Assert.Equal("""{"code":0,"msg":"success","data":{}}"""u8.ToArray(), body.Interleaved);
        // The thread's own buffer still serves the answers after it.
        Assert.Equal(expected, FeishuJson.Serialize(LargeAnswer, FeishuJsonContext.Default.EnvelopeFreeBusyBatchData));
    }

    [Fact]
    public void The_pooled_buffer_grows_keeping_what_was_written()
    {
        using var buffer = new PooledBufferWriter(16);
        var expected = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        foreach (var chunk in expected.Chunk(1000))
        {
            chunk.CopyTo(buffer.GetSpan(chunk.Length));
            buffer.Advance(chunk.Length);
        }
        Assert.Equal(expected, buffer.WrittenSpan.ToArray());
        Assert.Throws<InvalidOperationException>(() => buffer.Advance(buffer.Capacity));
        buffer.ResetWrittenCount();
        Assert.Equal(0, buffer.WrittenCount);
    }

    /// <summary>A body whose writes yield first and run <paramref name="meanwhile"/> on the writing thread before they copy.</summary>
    private sealed class InterleavingStream(Func<byte[]> meanwhile) : MemoryStream
    {
        public byte[] Interleaved { get; private set; } = [];

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interleaved = meanwhile();
            await Task.Yield();
            await base.WriteAsync(buffer, cancellationToken);
        }
    }
}
