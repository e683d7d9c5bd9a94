// The free/busy benchmark (issue 17): free/busy of 100 users over a week, answered from a database holding a million
// imported events, median under 10 ms. The events are written through the import's own store (CalendarStore.ApplyPageAsync,
// rows made by EventPayloads from Exchange items, as an import writes them) into a SQLite data folder composed as the server
// composes it; the timed call is the endpoint's handler without its HTTP framing: FreeBusyApi.BusyAsync (the two statements
// and the series expansion) and the answer's JSON. Warm: the server's own EventRangeReads, whose series cache the first
// requests fill; cold: each request on a new EventRangeReads, so every series master it touches is read and placed anew.
// Usage: dotnet run -c Release --project bench/FreeBusy -- [data folder] [events] [users] [requests]
using System.Diagnostics;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Hosting;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

/// <summary>The benchmark's entry point (a class, not top-level statements: the server's own Program is referenced).</summary>
internal static class FreeBusyBenchmark
{
    public static async Task<int> Main(string[] args)
    {
        var dataDir = args.Length > 0 ? Path.GetFullPath(args[0]) : Path.Combine(Path.GetTempPath(), "exbridge-bench-freebusy");
        var totalEvents = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        var userCount = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_000;
        const int AskedUsers = 100;
        var iterations = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 300;
        var weekStart = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--data-dir", dataDir] });
        builder.Configuration.AddCommandLine(["--data-dir", dataDir], ServiceRegistration.SwitchMappings);
        builder.Configuration["ExchangeBridge:Import:Workers"] = "0";
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddExchangeBridge(builder.Configuration);
        await using var app = builder.Build();
        await app.Services.GetRequiredService<Bootstrapper>().RunAsync(CancellationToken.None);
        var bootstrap = System.Text.Json.JsonSerializer.Deserialize(await File.ReadAllTextAsync(Path.Combine(dataDir, "bootstrap.json")),
            FeishuJsonContext.Default.BootstrapFile)!;
        var calendars = app.Services.GetRequiredService<CalendarStore>();
        var reads = app.Services.GetRequiredService<EventRangeReads>();
        var userIds = Enumerable.Range(0, userCount).Select(i => $"bench-user-{i:0000}").ToList();

        if ((await calendars.ListAsync(bootstrap.TenantKey, userIds[^1], 0, 1, CancellationToken.None)).Count == 0)
        {
            var seeding = Stopwatch.StartNew();
            await SeedAsync();
            Console.WriteLine($"seeded {totalEvents:N0} events for {userCount:N0} users in {seeding.Elapsed.TotalSeconds:F0} s");
        }
        else Console.WriteLine($"reusing the seeded data folder {dataDir}");

        var caller = new Caller(TokenKind.Tenant, bootstrap.TenantKey, bootstrap.AppId, null, false, false, new HashSet<string>(), long.MaxValue, true);
        var query = new FreeBusyQuery(weekStart, weekStart.AddDays(7), IncludeExternalCalendar: true, OnlyBusy: true, NeedRsvpStatus: false);
        var random = new Random(17);
        var timings = new List<double>(iterations);
        var readTimings = new List<double>(iterations);
        var expandTimings = new List<double>(iterations);
        var jsonTimings = new List<double>(iterations);
        long stretches = 0, rowCount = 0;
        // Every answer's bytes, warm and cold, in request order (the users are drawn from a fixed seed): two builds that print
        // the same digest over the same data answered every request the same.
        using var answers = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        for (var i = -30; i < iterations; i++) // the first 30 warm the JIT and the page cache
        {
            var asked = userIds.OrderBy(_ => random.Next()).Take(AskedUsers).ToList();
            var watch = Stopwatch.StartNew();
            var busy = await FreeBusyApi.BusyAsync(caller, reads, UserIdType.UserId, asked, query, CancellationToken.None);
            var answer = FeishuJson.Serialize(Envelope.Success(new FreeBusyBatchData(asked.Select(u => new UserFreeBusy(u, busy[u])).ToList())),
                FeishuJsonContext.Default.EnvelopeFreeBusyBatchData);
            watch.Stop();
            if (i < 0) continue;
            answers.AppendData(answer);
            timings.Add(watch.Elapsed.TotalMilliseconds);
            // Its parts, again for the same users: the range statement alone, then the expansion of its rows into busy
            // stretches, then the answer's JSON (the users' own statement is left out: one short indexed read).
            var part = Stopwatch.StartNew();
            var rows = await reads.PrimaryCalendarsRangeAsync(bootstrap.TenantKey, asked, query.TimeMin.ToUnixTimeMilliseconds(),
                query.TimeMax.ToUnixTimeMilliseconds(), CancellationToken.None);
            readTimings.Add(part.Elapsed.TotalMilliseconds);
            part.Restart();
            var byOwner = FreeBusyApi.BusyByOwner(rows, query);
            expandTimings.Add(part.Elapsed.TotalMilliseconds);
            part.Restart();
            GC.KeepAlive(FeishuJson.Serialize(Envelope.Success(new FreeBusyBatchData(asked.Select(u => new UserFreeBusy(u, byOwner.GetValueOrDefault(u) ?? [])).ToList())),
                FeishuJsonContext.Default.EnvelopeFreeBusyBatchData));
            jsonTimings.Add(part.Elapsed.TotalMilliseconds);
            rowCount += rows.Count;
            stretches += busy.Values.Sum(v => v.Count);
        }
        // First touch: each request with an empty series cache (the database's pages are as warm as above).
        var coldTimings = new List<double>();
        double heldBytesPerMaster = 0;
        for (var i = 0; i < Math.Min(100, iterations); i++)
        {
            var asked = userIds.OrderBy(_ => random.Next()).Take(AskedUsers).ToList();
            var before = i == 0 ? GC.GetTotalMemory(forceFullCollection: true) : 0;
            var coldReads = new EventRangeReads(app.Services.GetRequiredService<IDatabase>());
            var watch = Stopwatch.StartNew();
            answers.AppendData(await AnswerAsync(coldReads, asked));
            coldTimings.Add(watch.Elapsed.TotalMilliseconds);
            if (i > 0) continue;
            // What the first request left held: its masters, each with its placement (the rest of the request is garbage by now).
            var held = GC.GetTotalMemory(forceFullCollection: true) - before;
            var masters = (await coldReads.PrimaryCalendarsRangeAsync(bootstrap.TenantKey, asked, query.TimeMin.ToUnixTimeMilliseconds(),
                query.TimeMax.ToUnixTimeMilliseconds(), CancellationToken.None)).Count(r => r.Recurrence is not null && r.SeriesItemId is null);
            heldBytesPerMaster = held / (double)masters;
        }
        coldTimings.Sort();
        timings.Sort();
        readTimings.Sort();
        expandTimings.Sort();
        jsonTimings.Sort();
        static double At(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(q * sorted.Count))];
        Console.WriteLine($"free/busy of {AskedUsers} users over a week, {totalEvents:N0} events stored, {iterations} requests, series cache warm: " +
                          $"median {At(timings, 0.5):F2} ms, p90 {At(timings, 0.9):F2} ms, p99 {At(timings, 0.99):F2} ms, max {timings[^1]:F2} ms; " +
                          $"{stretches / (double)iterations:F0} busy stretches per answer");
        Console.WriteLine($"the same, series cache cold (first touch), {coldTimings.Count} requests: median {At(coldTimings, 0.5):F2} ms, " +
                          $"p90 {At(coldTimings, 0.9):F2} ms, p99 {At(coldTimings, 0.99):F2} ms, max {coldTimings[^1]:F2} ms; " +
                          $"the series cache holds ~{heldBytesPerMaster:F0} bytes a master");
        Console.WriteLine($"reading the rows alone (the range statement): median {readTimings[readTimings.Count / 2]:F2} ms for " +
                          $"{rowCount / (double)iterations:F0} rows per request (their free/busy columns, not their payloads)");
        Console.WriteLine($"expanding the rows into busy stretches: median {expandTimings[expandTimings.Count / 2]:F2} ms; " +
                          $"the answer's JSON: median {jsonTimings[jsonTimings.Count / 2]:F2} ms");
        Console.WriteLine($"the answers' digest (SHA-256 of every answer in request order): {Convert.ToHexString(answers.GetHashAndReset())}");
        return 0;

        async Task<byte[]> AnswerAsync(EventRangeReads through, List<string> asked)
        {
            var busy = await FreeBusyApi.BusyAsync(caller, through, UserIdType.UserId, asked, query, CancellationToken.None);
            return FeishuJson.Serialize(Envelope.Success(new FreeBusyBatchData(asked.Select(u => new UserFreeBusy(u, busy[u])).ToList())),
                FeishuJsonContext.Default.EnvelopeFreeBusyBatchData);
        }

        // Each user: a binding, its default calendar, and totalEvents / userCount events over two years around the week, one in
        // twenty a weekly series (Outlook's own expansion at read time), written a thousand at a time as import pages.
        async Task SeedAsync()
        {
            var admin = app.Services.GetRequiredService<AdminStore>();
            var bindings = app.Services.GetRequiredService<BindingStore>();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var perUser = totalEvents / userCount;
            var seed = new Random(1);
            foreach (var userId in userIds)
            {
                await admin.CreateUserAsync(new UserRecord { TenantKey = bootstrap.TenantKey, UserId = userId, UnionId = $"on_{userId}", Name = userId }, now,
                    CancellationToken.None);
                var mailbox = $"{userId}@contoso.com";
                var bindingKey = await bindings.InsertWithImportJobAsync(ExchangeBindingId.Encode("admin@contoso.com", mailbox), bootstrap.TenantKey,
                    "admin@contoso.com", mailbox, mailbox, userId, BindingStatus.Done.ToWire(), now, CancellationToken.None);
                await calendars.SaveFoldersAsync(bindingKey, bootstrap.TenantKey, userId, [new ExchangeCalendarFolder($"folder-{userId}", "Calendar", true)],
                    null, now, CancellationToken.None);
                var calendar = (await calendars.ListAsync(bootstrap.TenantKey, userId, 0, 1, CancellationToken.None))[0];
                var rows = new List<EventRow>(1000);
                for (var e = 0; e < perUser; e++)
                {
                    rows.AddRange(EventPayloads.ToRows(Item(userId, e, seed), calendar.CalendarId, userId, mailbox));
                    if (rows.Count < 1000 && e < perUser - 1) continue;
                    await calendars.ApplyPageAsync(bindingKey, calendar.Id, rows, [], [], new CalendarProgress(), now, CancellationToken.None);
                    rows.Clear();
                }
            }
        }

        ExchangeEvent Item(string userId, int index, Random seed)
        {
            var start = weekStart.AddDays(seed.Next(-365, 365)).AddMinutes(seed.Next(8 * 4, 19 * 4) * 15);
            var attendees = Enumerable.Range(0, 4).Select(a => new ExchangeBridge.Core.Exchange.EventAttendee($"Colleague {a}", $"colleague{a}@contoso.com", AttendeeKind.Required,
                AttendeeResponse.Accept)).ToList();
            RecurrenceInfo? series = index % 20 == 19 ? new RecurrenceInfo(start) : null;
            return new ExchangeEvent($"{userId}-item-{index}", "ck1", null, $"Meeting {index}", $"Agenda for meeting {index}", "Room 7", start,
                start.AddMinutes(30 * seed.Next(1, 4)), "Asia/Shanghai", false, new EventPerson("Organizer", "organizer@contoso.com"), attendees,
                series?.Rule, [], null, null, index % 10 == 3 ? FreeBusy.Free : FreeBusy.Busy, 15, false, start.AddDays(-3), start.AddDays(-30),
                LastOccurrenceStart: series?.LastStart, Sensitivity: index % 7 == 0 ? EventSensitivity.Private : EventSensitivity.Normal);
        }
    }
}

/// <summary>A weekly series of 52 occurrences from <paramref name="Start"/>, as a connector reads one.</summary>
internal sealed record RecurrenceInfo(DateTimeOffset Start)
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private readonly ExchangeRecurrence _recurrence = new(
        new ExchangeRecurrencePattern.Weekly(1, [Start.ToOffset(TimeSpan.FromHours(8)).DayOfWeek.ToString()]),
        new ExchangeRecurrenceRange.Numbered(DateOnly.FromDateTime(Start.ToOffset(TimeSpan.FromHours(8)).DateTime), 52));

    public string Rule => RecurrenceRules.ToRRule(_recurrence, Start, Shanghai, false);
    public DateTimeOffset? LastStart => SeriesOccurrences.LastStart(_recurrence, Start, Shanghai, false);
}
