using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

/// <summary>The test workflow's rules, and the Given/When/Then helper's own failure modes.</summary>
public sealed class TicketDeciderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Due = T0 + TicketWorkflow.Deadline;
    private static readonly DeciderSpec<TicketState, TicketCommand, TicketEvent> Ticket = DeciderSpec.For(TicketWorkflow.Definition);

    [Fact]
    public void Open_NewTicket_IsOpenedWithADeadline()
    {
        Ticket.Given()
            .When(new TicketCommand.Open("T1", T0))
            .Then(new TicketEvent.Opened("T1", Due))
            .State.ShouldBe(new TicketState.Open("T1", 0, Due));
    }

    [Fact]
    public void Open_WhenAlreadyOpen_YieldsNoEvents()
    {
        Ticket.Given(new TicketEvent.Opened("T1", Due))
            .When(new TicketCommand.Open("T1", T0.AddMinutes(5)))
            .Then();
    }

    [Fact]
    public void Add_ToNoTicket_IsRejected()
    {
        Ticket.Given()
            .When(new TicketCommand.Add(1))
            .ThenRejected()
            .Message.ShouldContain("Add");
    }

    [Fact]
    public void Add_ToClosedTicket_IsRejected()
    {
        Ticket.Given(new TicketEvent.Opened("T1", Due), new TicketEvent.Closed(0))
            .When(new TicketCommand.Add(1))
            .ThenRejected();
    }

    [Fact]
    public void Close_OpenTicket_RecordsItsTotal()
    {
        Ticket.Given(new TicketEvent.Opened("T1", Due), new TicketEvent.Added(2), new TicketEvent.Added(5))
            .When(new TicketCommand.Close())
            .Then(new TicketEvent.Closed(7))
            .State.ShouldBe(new TicketState.Closed("T1", 7));
    }

    [Fact]
    public void Opened_StartsTheDeadlineTimerAndNotifies()
    {
        var reactions = Ticket.Given()
            .When(new TicketCommand.Open("T1", T0))
            .Then(new TicketEvent.Opened("T1", Due))
            .Reactions("ticket-T1");

        reactions.Count.ShouldBe(2);
        reactions[0].ShouldBe(new Reaction.Send(TicketWorkflow.Name, "T1", new TicketCommand.Timeout(Due), Due));
        reactions[1].ShouldBeOfType<Reaction.Notify>().Notification.Type.ShouldBe("TicketOpened");
    }

    [Fact]
    public void Timeout_WhenClosedFirst_IsIgnored()
    {
        Ticket.Given(new TicketEvent.Opened("T1", Due), new TicketEvent.Closed(0))
            .When(new TicketCommand.Timeout(Due))
            .Then();
    }

    [Fact]
    public void Then_WhenTheDeciderYieldsOtherEvents_Fails()
    {
        var when = Ticket.Given(new TicketEvent.Opened("T1", Due)).When(new TicketCommand.Add(2));

        Should.Throw<ShouldAssertException>(() => when.Then(new TicketEvent.Added(3)));
        Should.Throw<ShouldAssertException>(() => when.Then());
    }

    [Fact]
    public void Then_WhenTheCommandWasRejected_FailsNamingTheRejection()
    {
        var when = Ticket.Given().When(new TicketCommand.Close());

        Should.Throw<ShouldAssertException>(() => when.Then()).Message.ShouldContain("rejected");
    }

    [Fact]
    public void ThenRejected_WhenTheCommandWasAccepted_Fails()
    {
        var when = Ticket.Given().When(new TicketCommand.Open("T1", T0));

        Should.Throw<ShouldAssertException>(when.ThenRejected).Message.ShouldContain("accepted");
    }
}
