using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Core.Opel;
using WinterOps.Core.Workflows;
using WinterOps.Functions.Opel;
using WinterOps.Functions.Tests.Placements;

namespace WinterOps.Functions.Tests.Opel;

/// <summary>
/// Late returns that arrive while the deadline assessment reads the return rows: each is written just after the
/// read has passed the returns, so it is not in what was read; it is announced to the round, which re-assesses.
/// </summary>
public sealed class RoundRaceTests
{
    [Fact]
    public async Task ALateReturnMissedByTheAssessmentsRead_IsReassessedShortlyAfter_SoNoReturnIsLost()
    {
        var (round, store, day, partners) = await StartAsync();
        await using var _ = round;
        store.Arm([(partners[1], OpelRound.Ods(2))]);

        await AssessAsync(round, day);

        var first = await round.AssessedAsync(day);
        var reassessed = await round.AssessedAsync(day, 2);
        reassessed.GetProperty("missing").EnumerateArray().Select(m => m.GetString()).ShouldBe([OpelRound.Ods(3), OpelRound.Ods(4)]);
        first.GetProperty("received").GetInt32().ShouldBeLessThanOrEqualTo(reassessed.GetProperty("received").GetInt32());
    }

    [Fact]
    public async Task ABurstOfLateReturns_IsReassessedOnce()
    {
        var (round, _, day, partners) = await StartAsync();
        await using var __ = round;
        await AssessAsync(round, day);
        await round.AssessedAsync(day);

        round.SetLondon(day, 14, 0);
        await Task.WhenAll(Enumerable.Range(1, 3).Select(async i =>
            (await partners[i].PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(i + 1)}", OpelRound.Return())).StatusCode.ShouldBe(HttpStatusCode.OK)));

        var reassessed = await round.AssessedAsync(day, 2);
        reassessed.GetProperty("missing").GetArrayLength().ShouldBe(0);
        await Task.Delay(TimeSpan.FromSeconds(1)); // room for a stray re-assessment to show up
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
        await Brokerage.EventuallyAsync(RequestedAsync, planned => planned, "the request to report"); // it reads the returns too: before the hook is armed
        round.SetLondon(day, 9, 0);
        (await partners[0].PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{OpelRound.Ods(1)}", OpelRound.Return())).EnsureSuccessStatusCode();
        round.SetLondon(day, 10, 59); // from here returns are announced to the round
        store.OnLateReturn = async (client, ods) =>
            (await client.PutAsJsonAsync($"/api/returns/{OpelRound.Iso(day)}/{ods}", OpelRound.Return())).StatusCode.ShouldBe(HttpStatusCode.OK);
        return (round, store, day, partners);

        async Task<bool> RequestedAsync()
        {
            try
            {
                return (await round.App.Get<RoundStore>().ReadNoticeBatchAsync(day, RoundNotice.Requested, 0, CancellationToken.None)).Count > 0;
            }
            catch (global::Azure.RequestFailedException e) when (e.Status == 404)
            {
                return false;
            }
        }
    }

    private static async Task AssessAsync(OpelRound round, DateOnly day)
    {
        round.Clock.UtcNow = London.At(day, new TimeOnly(11, 0));
        await round.WakeAsync(day);
    }

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
