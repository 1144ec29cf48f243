using System.Net;
using System.Net.Http.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Storage;
using WinterOps.Core;
using WinterOps.Core.Opel;
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
        var round = await OpelRound.StartAsync(localTriggers: false, b => b.Services.AddSingleton(sp =>
            new ReturnStore(store.Wrap(sp.GetRequiredService<StorageAccount>(), b.Configuration["Storage"]!))));
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

    /// <summary>Runs <see cref="OnLateReturn"/> for the next armed partner each time a read of the day's return levels has been answered.</summary>
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

        /// <summary>The app's returns table, through a client that runs the hook once each query of the table has been answered.</summary>
        public TableClient Wrap(StorageAccount storage, string connectionString)
        {
            var options = new TableClientOptions();
            options.AddPolicy(new AfterQuery(this), HttpPipelinePosition.PerCall);
            return new TableClient(connectionString, storage.Prefix + StorageNames.ReturnsTable, options);
        }

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

        /// <summary>Runs the hook after a query (a GET with a filter), when its answer is in: what is written now is not in it.</summary>
        private sealed class AfterQuery(ReturnsReadHook hook) : HttpPipelinePolicy
        {
            public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
                throw new NotSupportedException("The app reads returns asynchronously.");

            public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
            {
                await ProcessNextAsync(message, pipeline);
                if (message.Request.Method == RequestMethod.Get && message.Request.Uri.Query.Contains("filter", StringComparison.OrdinalIgnoreCase)
                    && message.Request.Uri.Query.Contains("Kind", StringComparison.Ordinal))
                {
                    await hook.AfterReadAsync();
                }
            }
        }
    }
}
