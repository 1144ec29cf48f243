using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>
/// Late returns noted on the round while the deadline assessment reads the return streams: each
/// arrives after the read has passed the return streams, so it is not in what was read.
/// </summary>
public sealed class RoundRaceTests
{
    [Fact]
    public async Task ALateReturnNotedDuringTheRead_IsReadAgain_SoTheAssessmentIsComplete()
    {
        var (round, store, day, partners) = await StartAsync();
        await using var _ = round;
        store.Arm([(partners[1], OpelRound.Ods(2))]);

        await AssessAsync(round, day);

        var assessed = await round.RoundAsync(day);
        assessed.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).ShouldBe([OpelRound.Ods(3), OpelRound.Ods(4)]);
        (await ReassessTimersAsync(round, day)).ShouldBe(0);
    }

    [Fact]
    public async Task LateReturnsNotedDuringEveryRead_AreReassessedOnce_ShortlyAfter()
    {
        var (round, store, day, partners) = await StartAsync();
        await using var _ = round;
        store.Arm([(partners[1], OpelRound.Ods(2)), (partners[2], OpelRound.Ods(3)), (partners[3], OpelRound.Ods(4))]); // one during each of the three reads

        await AssessAsync(round, day);

        var assessed = await round.RoundAsync(day);
        assessed.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).ShouldBe([OpelRound.Ods(4)]); // noted during the last read
        (await ReassessTimersAsync(round, day)).ShouldBe(1);
        var due = round.Clock.UtcNow + RoundWorkflow.ReassessDelay;
        round.Clock.UtcNow = due;
        await round.RunRoundCommandAsync(day, new RoundCommand.Reassess(due), "test-reassess", due);
        var reassessed = await round.RoundAsync(day);
        reassessed.GetProperty("missing").GetArrayLength().ShouldBe(0);
        (await round.RoundEventsAsync(day)).Count(e => e == "RoundAssessed").ShouldBe(2);
    }

    private static async Task<(OpelRound Round, ReturnsReadHook Store, DateOnly Day, List<HttpClient> Partners)> StartAsync()
    {
        var store = new ReturnsReadHook();
        var round = await OpelRound.StartAsync(localTriggers: false, b => b.Services.AddSingleton<IEventStore>(sp =>
            store.Wrap(new TableEventStore(sp.GetRequiredService<StorageAccount>().Table(StorageNames.StreamsTable)))));
        await round.RegisterAsync([1, 2, 3, 4]);
        var partners = new List<HttpClient>();
        foreach (var n in new[] { 1, 2, 3, 4 })
        {
            partners.Add(await round.App.ClientAsAsync("Partner", OpelRound.Ods(n), $"Reporter {n} (test)"));
        }

        var day = London.Today(round.Clock.UtcNow);
        round.SetLondon(day, 8, 0);
        (await round.TickAsync()).ShouldBe(day);
        round.SetLondon(day, 9, 0);
        (await partners[0].PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(1)}", OpelRound.Return())).EnsureSuccessStatusCode();
        round.SetLondon(day, 10, 59); // from here returns are announced to the round
        store.OnLateReturn = async (client, ods) =>
        {
            (await client.PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{ods}", OpelRound.Return())).StatusCode.ShouldBe(HttpStatusCode.OK);
            // The queue delivers the return's ReturnArrived to the round (local triggers are off).
            await round.RunRoundCommandAsync(day, new RoundCommand.ReturnArrived(ods, 1, round.Clock.UtcNow), $"test-arrived-{ods}");
        };
        return (round, store, day, partners);
    }

    private static async Task AssessAsync(OpelRound round, DateOnly day)
    {
        var deadline = London.At(day, new TimeOnly(11, 0));
        round.Clock.UtcNow = deadline;
        await round.RunRoundCommandAsync(day, new RoundCommand.Assess(deadline), "test-assess", deadline);
    }

    private static async Task<int> ReassessTimersAsync(OpelRound round, DateOnly day) =>
        (await round.App.Get<IEventStore>().ReadPendingOutboxAsync(RoundWorkflow.Definition.StreamId(RoundWorkflow.Key(day)), CancellationToken.None))
            .Count(o => o.Kind == OutboxKinds.Command && o.Payload.Contains("\"ReassessRound\"", StringComparison.Ordinal));

    /// <summary>Runs <see cref="OnLateReturn"/> for the next armed partner each time a read of the return streams has finished.</summary>
    private sealed class ReturnsReadHook
    {
        private readonly Queue<(HttpClient Client, string Ods)> _armed = new();
        private bool _firing;

        public Func<HttpClient, string, Task>? OnLateReturn { get; set; }

        public void Arm(IEnumerable<(HttpClient Client, string Ods)> partners)
        {
            foreach (var partner in partners)
            {
                _armed.Enqueue(partner);
            }
        }

        public IEventStore Wrap(IEventStore inner) => new Store(inner, this);

        private async Task AfterReadAsync()
        {
            if (!_firing && _armed.TryDequeue(out var partner))
            {
                _firing = true; // the return's own reads do not fire it again
                try
                {
                    await OnLateReturn!(partner.Client, partner.Ods);
                }
                finally
                {
                    _firing = false;
                }
            }
        }

        private sealed class Store(IEventStore inner, ReturnsReadHook hook) : IEventStore
        {
            public Task<StoredHead?> ReadHeadAsync(string streamId, CancellationToken cancellationToken) => inner.ReadHeadAsync(streamId, cancellationToken);

            public Task<string> AppendAsync(Append append, CancellationToken cancellationToken) => inner.AppendAsync(append, cancellationToken);

            public Task<IReadOnlyList<StoredEvent>> ReadEventsAsync(string streamId, CancellationToken cancellationToken) => inner.ReadEventsAsync(streamId, cancellationToken);

            public Task<bool> HasAppliedAsync(string streamId, string commandId, CancellationToken cancellationToken) => inner.HasAppliedAsync(streamId, commandId, cancellationToken);

            public async IAsyncEnumerable<StoredHead> ReadHeadsAsync(string workflow, string keyPrefix, [EnumeratorCancellation] CancellationToken cancellationToken)
            {
                await foreach (var head in inner.ReadHeadsAsync(workflow, keyPrefix, cancellationToken))
                {
                    yield return head;
                }

                if (workflow == ReturnWorkflow.Name)
                {
                    await hook.AfterReadAsync();
                }
            }

            public Task<IReadOnlyList<OutboxEntry>> ReadPendingOutboxAsync(string streamId, CancellationToken cancellationToken) => inner.ReadPendingOutboxAsync(streamId, cancellationToken);

            public Task MarkSentAsync(string streamId, OutboxEntry entry, CancellationToken cancellationToken) => inner.MarkSentAsync(streamId, entry, cancellationToken);

            public Task<bool> TryClearPendingAsync(string streamId, string headETag, CancellationToken cancellationToken) => inner.TryClearPendingAsync(streamId, headETag, cancellationToken);

            public IAsyncEnumerable<string> FindPendingStreamsAsync(DateTimeOffset before, CancellationToken cancellationToken) => inner.FindPendingStreamsAsync(before, cancellationToken);
        }
    }
}
