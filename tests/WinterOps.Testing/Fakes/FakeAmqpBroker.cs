using System.Collections.Concurrent;
using System.Text;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Framing;
using Microsoft.Azure.Amqp.Sasl;
using Microsoft.Azure.Amqp.Transport;

namespace WinterOps.Testing.Fakes;

/// <summary>A message the fake broker accepted (one per MessageId).</summary>
public sealed record BrokeredMessage(
    string? MessageId, string? Subject, string? ContentType, string? CorrelationId,
    IReadOnlyDictionary<string, object> ApplicationProperties, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// An in-process fake Service Bus broker for one entity, built on Microsoft.Azure.Amqp's server side, which the real
/// <c>ServiceBusClient</c> talks to over loopback AMQP in emulator mode (<see cref="ConnectionString"/>). It does what
/// the SDK's sender needs: SASL <c>MSSBCBS</c>, a <c>$cbs</c> node that grants every put-token (status-code 200), and a
/// receiving link on <c>/{entity}</c> advertising a <see cref="MaxMessageSize"/> of 256 KB. A transfer is one message,
/// or a batch (format <c>0x80013700</c>) whose Data sections are each a whole encoded message. Messages are kept once
/// per MessageId (duplicate detection); every transfer is counted. <see cref="FailNext"/> rejects the next transfers
/// with an AMQP error condition; <see cref="StopAsync"/> drops connections and refuses new ones until
/// <see cref="RestartAsync"/> listens again on the same port. Thread-safe.
/// </summary>
public sealed class FakeAmqpBroker : IAsyncDisposable
{
    public const int MaxMessageSize = 256 * 1024;

    private readonly Lock _lock = new();
    private readonly List<BrokeredMessage> _messages = [];
    private readonly HashSet<string> _ids = [];
    private readonly Queue<string> _failures = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly ConcurrentDictionary<string, SendingAmqpLink> _cbsReplyLinks = new();
    private readonly int _port = AzuriteServer.FreePort();
    private AmqpConnectionListener? _listener;
    private volatile bool _down;
    private int _transfers;
    private int _batches;

    private FakeAmqpBroker(string entity) => Entity = entity;

    public string Entity { get; }

    public string ConnectionString =>
        $"Endpoint=sb://127.0.0.1:{_port};SharedAccessKeyName=k;SharedAccessKey=s;UseDevelopmentEmulator=true";

    public IReadOnlyList<BrokeredMessage> Messages { get { lock (_lock) { return [.. _messages]; } } }

    /// <summary>Transfers received, accepted or rejected (a batch is one).</summary>
    public int Transfers { get { lock (_lock) { return _transfers; } } }

    /// <summary>Accepted transfers in the batched message format.</summary>
    public int Batches { get { lock (_lock) { return _batches; } } }

    public static Task<FakeAmqpBroker> StartAsync(string entity = "winterops-notifications")
    {
        var broker = new FakeAmqpBroker(entity);
        broker.Listen();
        return Task.FromResult(broker);
    }

    /// <summary>Rejects the next <paramref name="times"/> transfers with <paramref name="condition"/>, e.g. <c>amqp:not-found</c>.</summary>
    public void FailNext(string condition, int times = 1)
    {
        lock (_lock)
        {
            for (var i = 0; i < times; i++)
            {
                _failures.Enqueue(condition);
            }
        }
    }

    /// <summary>The messages, once at least <paramref name="count"/> have arrived; a <see cref="TimeoutException"/> otherwise.</summary>
    public async Task<IReadOnlyList<BrokeredMessage>> WaitForAsync(int count, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_messages.Count >= count)
            {
                return [.. _messages];
            }

            _waiters.Add((count, done));
        }

        try
        {
            await done.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Messages.Count} of {count} messages arrived within {timeout}.");
        }

        return Messages;
    }

    /// <summary>Refuses connections and closes the open ones; a transfer still arriving on one is dropped, unsettled.</summary>
    public Task StopAsync()
    {
        _down = true;
        Interlocked.Exchange(ref _listener, null)?.Close();
        return Task.CompletedTask;
    }

    public Task RestartAsync()
    {
        Listen();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private void Listen()
    {
        _down = false;
        var sasl = new SaslTransportProvider();
        sasl.Versions.Add(new AmqpVersion(1, 0, 0));
        sasl.AddHandler(new SaslAnonymousHandler("MSSBCBS"));
        var settings = new AmqpSettings { RuntimeProvider = new Runtime(this) };
        settings.TransportProviders.Add(sasl);
        var listener = new AmqpConnectionListener(
            [$"amqp://127.0.0.1:{_port}"], settings, new AmqpConnectionSettings { ContainerId = "fake-amqp-broker" });
        listener.Open();
        _listener = listener;
    }

    // Attaches: the $cbs pair (requests in, replies out by reply-to address) and senders to the entity.
    private void OnOpenLink(AmqpLink link)
    {
        var address = ((link.IsReceiver ? (link.Settings.Target as Target)?.Address : (link.Settings.Source as Source)?.Address))?.ToString();
        if (address == "$cbs" && link is ReceivingAmqpLink cbsRequests)
        {
            cbsRequests.RegisterMessageListener(request => OnPutToken(cbsRequests, request));
        }
        else if (address == "$cbs" && link is SendingAmqpLink cbsReplies && (link.Settings.Target as Target)?.Address?.ToString() is { } replyTo)
        {
            _cbsReplyLinks[replyTo] = cbsReplies;
            cbsReplies.Closed += (_, _) => _cbsReplyLinks.TryRemove(new(replyTo, cbsReplies));
        }
        else if (address?.TrimStart('/') == Entity && link is ReceivingAmqpLink entity)
        {
            entity.RegisterMessageListener(delivery => OnTransfer(entity, delivery));
        }
        else
        {
            throw new AmqpException(AmqpErrorCode.NotFound, $"The fake broker has no '{address}' for this link.");
        }
    }

    private void OnPutToken(ReceivingAmqpLink link, AmqpMessage request)
    {
        using (request)
        {
            if (!request.Settled)
            {
                link.AcceptMessage(request, settled: true, batchable: false);
            }

            if (request.Properties?.ReplyTo?.ToString() is { } replyTo && _cbsReplyLinks.TryGetValue(replyTo, out var replies))
            {
                var response = AmqpMessage.Create();
                response.Properties.CorrelationId = request.Properties.MessageId;
                response.ApplicationProperties.Map["status-code"] = 200;
                response.ApplicationProperties.Map["status-description"] = "OK";
                response.Settled = true;
                replies.SendMessageNoWait(response, AmqpConstants.EmptyBinary, AmqpConstants.NullBinary);
            }
        }
    }

    private void OnTransfer(ReceivingAmqpLink link, AmqpMessage delivery)
    {
        using (delivery)
        {
            if (_down)
            {
                return;
            }

            string? failure;
            lock (_lock)
            {
                _transfers++;
                _failures.TryDequeue(out failure);
            }

            if (failure is not null)
            {
                var error = new Error { Condition = failure, Description = "Injected by FakeAmqpBroker.FailNext." };
                link.DisposeMessage(delivery, new Rejected { Error = error }, settled: true, batchable: false);
                return;
            }

            var batched = delivery.MessageFormat == AmqpConstants.AmqpBatchedMessageFormat;
            var messages = batched ? [.. delivery.DataBody.Select(data => Read(Decode(data)))] : new[] { Read(delivery) };
            lock (_lock)
            {
                _batches += batched ? 1 : 0;
                foreach (var message in messages.Where(m => m.MessageId is null || _ids.Add(m.MessageId)))
                {
                    _messages.Add(message);
                }

                _waiters.RemoveAll(w => _messages.Count >= w.Count && w.Done.TrySetResult());
            }

            link.AcceptMessage(delivery, settled: true, batchable: false);
        }
    }

    private static AmqpMessage Decode(Data data) =>
        AmqpMessage.CreateAmqpStreamMessage(new BufferListStream([new ArraySegment<byte>(Bytes(data))]), true);

    private static BrokeredMessage Read(AmqpMessage message)
    {
        using (message)
        {
            var properties = message.Properties; // null when the message has no properties section
            var applicationProperties = (message.ApplicationProperties?.Map ?? [])
                .ToDictionary(p => p.Key.Key.ToString()!, p => p.Value);
            return new BrokeredMessage(
                properties?.MessageId?.ToString(), properties?.Subject, properties?.ContentType.Value, properties?.CorrelationId?.ToString(),
                applicationProperties, [.. (message.DataBody ?? []).SelectMany(Bytes)]);
        }
    }

    private static byte[] Bytes(Data data) => data.Value switch
    {
        ArraySegment<byte> segment => segment.ToArray(),
        byte[] bytes => bytes,
        _ => [],
    };

    /// <summary>Server-side connections, sessions and links, each link opened at once through <see cref="OnOpenLink"/>.</summary>
    private sealed class Runtime(FakeAmqpBroker broker) : IRuntimeProvider
    {
        public AmqpConnection CreateConnection(
            TransportBase transport, ProtocolHeader protocolHeader, bool isInitiator, AmqpSettings amqpSettings, AmqpConnectionSettings connectionSettings) =>
            new(transport, protocolHeader, false, amqpSettings, connectionSettings);

        public AmqpSession CreateSession(AmqpConnection connection, AmqpSessionSettings settings) => new(connection, settings, this);

        public AmqpLink CreateLink(AmqpSession session, AmqpLinkSettings settings)
        {
            if (settings.Role == true)
            {
                settings.MaxMessageSize = MaxMessageSize;
                return new ReceivingAmqpLink(session, settings);
            }

            return new SendingAmqpLink(session, settings);
        }

        public IAsyncResult BeginOpenLink(AmqpLink link, TimeSpan timeout, AsyncCallback callback, object state)
        {
            broker.OnOpenLink(link);
            var opened = new TaskCompletionSource(state);
            opened.SetResult();
            callback(opened.Task);
            return opened.Task;
        }

        public void EndOpenLink(IAsyncResult result)
        {
        }
    }
}
