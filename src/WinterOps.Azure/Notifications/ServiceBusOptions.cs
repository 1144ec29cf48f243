namespace WinterOps.Azure.Notifications;

/// <summary>
/// Settings of the Service Bus channel (section <c>Notifications:ServiceBus</c>). The channel is off unless
/// <see cref="ConnectionString"/> or <see cref="FullyQualifiedNamespace"/> is set.
/// </summary>
public sealed class ServiceBusOptions
{
    public const string Section = "Notifications:ServiceBus";

    /// <summary>
    /// <c>Endpoint=sb://{namespace}/;SharedAccessKeyName=...;SharedAccessKey=...</c> (or a local emulator's or test
    /// broker's, with <c>UseDevelopmentEmulator=true</c>). Leave empty in Azure and set <see cref="FullyQualifiedNamespace"/>:
    /// the managed identity sends with an Entra token.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>e.g. <c>winterops-prod.servicebus.windows.net</c>; the identity needs Azure Service Bus Data Sender on the topic.</summary>
    public string? FullyQualifiedNamespace { get; set; }

    public const string DefaultTopic = "winterops-events";

    /// <summary>The topic partners subscribe to (duplicate detection on); empty means <see cref="DefaultTopic"/>.</summary>
    public string TopicName
    {
        get => string.IsNullOrWhiteSpace(field) ? DefaultTopic : field;
        set;
    }

    /// <summary>Off when neither a connection string nor a namespace is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString) || !string.IsNullOrWhiteSpace(FullyQualifiedNamespace);
}
