using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.DependencyInjection;
using WinterOps.Azure.Notifications;
using WinterOps.Testing;
using WinterOps.Testing.Fakes;

namespace WinterOps.Azure.Tests.Notifications;

public class ChannelWiringTests
{
    [Fact]
    public async Task Unconfigured_AllThreeChannelsAreRegisteredAndOff()
    {
        await using var app = await TestApp.StartAsync();

        var channels = app.Services.GetServices<IExternalChannel>().ToList();

        channels.Select(c => (c.Name, c.Enabled)).ShouldBe([("servicebus", false), ("teams", false), ("webhook", false)]);
    }

    [Fact]
    public async Task Configured_ServiceBusChannelFromSettings_SendsToTheBroker()
    {
        await using var broker = await FakeAmqpBroker.StartAsync("partners");
        await using var app = await TestApp.StartAsync(configure: b =>
        {
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = broker.ConnectionString;
            b.Configuration["Notifications:ServiceBus:TopicName"] = broker.Entity;
        });

        var channel = app.Get<ServiceBusChannel>();
        channel.Enabled.ShouldBeTrue();
        app.Services.GetServices<IExternalChannel>().ShouldContain(channel);
        await channel.SendAsync(Sample.Offer(), default);

        var message = broker.Messages.ShouldHaveSingleItem();
        message.MessageId.ShouldBe("placement-P1.0000000002.0");
        message.ContentType.ShouldBe(ServiceBusChannel.CloudEventsContentType);
    }

    [Fact]
    public async Task ConfiguredNamespace_OneClientForThatNamespace_AndTheChannelIsOn()
    {
        // Entra mode: nothing is contacted at start-up; the SDK connects (and asks for a token) on the first send.
        await using var app = await TestApp.StartAsync(configure: b =>
            b.Configuration["Notifications:ServiceBus:FullyQualifiedNamespace"] = "winterops-test.servicebus.windows.net");

        app.Get<ServiceBusChannel>().Enabled.ShouldBeTrue();
        app.Get<ServiceBusClient>().FullyQualifiedNamespace.ShouldBe("winterops-test.servicebus.windows.net");
    }

    /// <summary>
    /// A connection string the SDK cannot parse stops the app at start-up, with an error that names the setting and does
    /// not echo the value (it may hold a key).
    /// </summary>
    [Theory]
    [InlineData("Endpoint=https://x;SharedAccessKey=k")] // no key name, no namespace host
    [InlineData("not a connection string")]
    public async Task BadConnectionString_FailsAtStartUp_NamingTheSetting(string connectionString)
    {
        var failure = await Should.ThrowAsync<InvalidOperationException>(() => TestApp.StartAsync(configure: b =>
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = connectionString));

        failure.Message.ShouldContain("Notifications:ServiceBus:ConnectionString is not a Service Bus connection string");
        failure.Message.ShouldNotContain(connectionString);
    }
}
