namespace ExchangeBridge.Core.Bindings;

/// <summary>The documented life of a binding: doing → cal_done → timespan_done → done, or err.</summary>
public enum BindingStatus { Doing, CalDone, TimespanDone, Done, Err }

public static class BindingStatusWire
{
    public static string ToWire(this BindingStatus status) => status switch
    {
        BindingStatus.Doing => "doing",
        BindingStatus.CalDone => "cal_done",
        BindingStatus.TimespanDone => "timespan_done",
        BindingStatus.Done => "done",
        BindingStatus.Err => "err",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static BindingStatus FromWire(string wire) => wire switch
    {
        "doing" => BindingStatus.Doing,
        "cal_done" => BindingStatus.CalDone,
        "timespan_done" => BindingStatus.TimespanDone,
        "done" => BindingStatus.Done,
        "err" => BindingStatus.Err,
        _ => throw new ArgumentOutOfRangeException(nameof(wire), wire, "unknown binding status"),
    };
}
