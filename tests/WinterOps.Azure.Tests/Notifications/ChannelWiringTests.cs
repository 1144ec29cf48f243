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
    public async Task Configured_ServiceBusChannelFromSettings_SendsToTheFake()
    {
        await using var bus = await FakeServiceBus.StartAsync(topic: "partners");
        await using var app = await TestApp.StartAsync(configure: b =>
        {
            b.Configuration["Notifications:ServiceBus:ConnectionString"] = bus.ConnectionString;
            b.Configuration["Notifications:ServiceBus:TopicName"] = "partners";
            b.Configuration["Notifications:ServiceBus:BaseUrl"] = bus.BaseAddress.ToString();
        });

        await app.Get<ServiceBusChannel>().SendAsync(Sample.Offer(), default);

        bus.Messages.ShouldHaveSingleItem().MessageId.ShouldBe("placement-P1.0000000002.0");
    }

    [Fact]
    public async Task PlainHttpToARemoteHost_FailsAtStartUp()
    {
        var failure = await Should.ThrowAsync<InvalidOperationException>(() => TestApp.StartAsync(configure: b =>
        {
            b.Configuration["Notifications:ServiceBus:FullyQualifiedNamespace"] = "ns.servicebus.windows.net";
            b.Configuration["Notifications:ServiceBus:BaseUrl"] = "http://sb.example.org";
        }));

        failure.Message.ShouldContain("Notifications:ServiceBus:BaseUrl must use https");
    }
}
