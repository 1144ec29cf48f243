using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using WinterOps.Azure.Outbox;
using WinterOps.Azure.Storage;
using WinterOps.Core.Workflows;
using WinterOps.Testing;

namespace WinterOps.Azure.Tests;

/// <summary>The engine wired on a real Azurite with its own table and queue names, and a clock the test controls.</summary>
public sealed class Engine
{
    private Engine(StorageAccount storage, FakeTimeProvider time, IOutboxSignal? signal)
    {
        Storage = storage;
        Time = time;
        Store = new TableEventStore(storage.Table(StorageNames.StreamsTable));
        Queues = new WorkflowQueues(storage, time, NullLogger<WorkflowQueues>.Instance);
        Catalog = new WorkflowCatalog([ReminderWorkflow.Definition]);
        Handler = new CommandHandler(Store, Catalog, signal ?? Queues);
        Inbox = new InboxStore(storage.Table(StorageNames.InboxTable));
        Dispatcher = new OutboxDispatcher(Store, Queues, [Inbox], null, NullLogger<OutboxDispatcher>.Instance);
        Sweeper = new OutboxSweeper(Store, Dispatcher, time, NullLogger<OutboxSweeper>.Instance);
        Runner = new QueuedCommandRunner(Catalog, Handler, [], Queues, time, NullLogger<QueuedCommandRunner>.Instance);
    }

    public StorageAccount Storage { get; }

    public FakeTimeProvider Time { get; }

    public TableEventStore Store { get; }

    public WorkflowQueues Queues { get; }

    public WorkflowCatalog Catalog { get; }

    public CommandHandler Handler { get; }

    public InboxStore Inbox { get; }

    public OutboxDispatcher Dispatcher { get; }

    public OutboxSweeper Sweeper { get; }

    public QueuedCommandRunner Runner { get; }

    /// <param name="signal">Replaces the dispatch-queue signal (e.g. one that drops it, as a crash would).</param>
    public static async Task<Engine> StartAsync(IOutboxSignal? signal = null, AzuriteServer? azurite = null)
    {
        azurite ??= await AzuriteServer.Shared;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage"] = azurite.ConnectionString,
            ["StorageNamePrefix"] = "e" + Guid.NewGuid().ToString("N")[..12],
        }).Build();
        var storage = new StorageAccount(configuration);
        foreach (var table in StorageNames.Tables)
        {
            await storage.Table(table).CreateIfNotExistsAsync();
        }

        foreach (var queue in StorageNames.Queues)
        {
            await storage.Queue(queue).CreateIfNotExistsAsync();
        }

        return new Engine(storage, new FakeTimeProvider(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero)), signal);
    }

    public CommandContext Context(string? commandId = null) =>
        new(commandId ?? Guid.NewGuid().ToString("N"), new Actor("user-1", "Test User", "Coordinator", "QZZ"), Time.GetUtcNow());

    public Task<CommandResult<ReminderWorkflow.State>> SendAsync(string key, ReminderWorkflow.Command command, string? commandId = null) =>
        Handler.HandleAsync(ReminderWorkflow.Definition, key, command, Context(commandId));
}

/// <summary>An outbox signal lost on the way, as when the process dies right after the commit.</summary>
public sealed class DroppedSignal : IOutboxSignal
{
    public int Dropped { get; private set; }

    public Task OutboxWrittenAsync(string streamId, CancellationToken cancellationToken)
    {
        Dropped++;
        return Task.CompletedTask;
    }
}
