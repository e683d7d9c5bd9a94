using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Tests.Storage;

[Trait("Database", "Independent")]
public sealed class BindingReadCacheTests
{
    private static BindingReadCache.Key Key(string id, UserIdType type = UserIdType.OpenId, string app = "cli_a") => new("t1", app, id, type);

    private static byte[] Answer(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Forgetting_a_binding_drops_all_its_answers_and_only_its_own()
    {
        var cache = new BindingReadCache(enabled: true);
        cache.Keep(Key("A"), 1, Answer("a open"), cache.WritesSoFar);
        cache.Keep(Key("A", UserIdType.UserId), 1, Answer("a user"), cache.WritesSoFar);
        cache.Keep(Key("A", app: "cli_b"), 1, Answer("a other app"), cache.WritesSoFar);
        cache.Keep(Key("B"), 2, Answer("b"), cache.WritesSoFar);
        Assert.True(cache.TryGet(Key("A", UserIdType.UserId), out var hit));
        Assert.Equal("a user", System.Text.Encoding.UTF8.GetString(hit));

        cache.Committed(Touched.Binding(1));

        Assert.False(cache.TryGet(Key("A"), out _));
        Assert.False(cache.TryGet(Key("A", UserIdType.UserId), out _));
        Assert.False(cache.TryGet(Key("A", app: "cli_b"), out _));
        Assert.True(cache.TryGet(Key("B"), out _));
        Assert.False(cache.TryGet(new BindingReadCache.Key("t2", "cli_a", "B", UserIdType.OpenId), out _));
    }

    [Fact]
    public void A_read_that_raced_with_a_write_is_not_kept()
    {
        var cache = new BindingReadCache(enabled: true);
        var before = cache.WritesSoFar;
        // The read saw the row; meanwhile a write committed and forgot the binding (nothing was cached yet).
        cache.Committed(Touched.Binding(1));
        cache.Keep(Key("A"), 1, Answer("stale"), before);
        Assert.False(cache.TryGet(Key("A"), out _));

        // Any write counts, even another binding's: the read cannot know which rows the write touched.
        before = cache.WritesSoFar;
        cache.Committed(Touched.Rows(TouchedKinds.OpenIds));
        cache.Keep(Key("A"), 1, Answer("maybe stale"), before);
        Assert.False(cache.TryGet(Key("A"), out _));

        cache.Keep(Key("A"), 1, Answer("fresh"), cache.WritesSoFar);
        Assert.True(cache.TryGet(Key("A"), out _));
    }

    [Fact]
    public void A_change_of_open_ids_drops_everything_and_a_disabled_cache_keeps_nothing()
    {
        var cache = new BindingReadCache(enabled: true);
        cache.Keep(Key("A"), 1, Answer("a"), cache.WritesSoFar);
        cache.Keep(Key("B"), 2, Answer("b"), cache.WritesSoFar);
        cache.Committed(Touched.Rows(TouchedKinds.OpenIds));
        Assert.Equal(0, cache.Count);

        var disabled = new BindingReadCache(enabled: false);
        disabled.Keep(Key("A"), 1, Answer("a"), disabled.WritesSoFar);
        Assert.False(disabled.TryGet(Key("A"), out _));
    }

    [Fact]
    public void The_cache_starts_again_empty_rather_than_grow_past_its_bound()
    {
        var cache = new BindingReadCache(enabled: true);
        var answer = Answer("x");
        for (var i = 0; i < BindingReadCache.MaxAnswers; i++) cache.Keep(Key($"id{i}"), i, answer, cache.WritesSoFar);
        Assert.Equal(BindingReadCache.MaxAnswers, cache.Count);
        cache.Keep(Key("one more"), -1, answer, cache.WritesSoFar);
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet(Key("one more"), out _));
        // What was dropped is gone from the per-binding index too: forgetting it later is harmless.
        cache.Committed(Touched.Binding(5));
        Assert.True(cache.TryGet(Key("one more"), out _));
    }
}
