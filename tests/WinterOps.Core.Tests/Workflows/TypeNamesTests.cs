using System.Reflection;
using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public sealed class TypeNamesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly PartnerDetails Details = new(
        "Royal County Hospital", Sector.Acute, 1.5m, ExpectedDaily: true,
        [new Contact("Ada Lovelace", "oid-1", "Site manager", 1), new Contact("Alan Turing", null, "Deputy", 2)]);

    /// <summary>One value of every partner event; the tests below check it covers every registered name.</summary>
    private static readonly PartnerEvent[] PartnerEvents =
    [
        new PartnerEvent.Registered("RC9", Details),
        new PartnerEvent.DetailsChanged(Details with { SizeWeight = 2m, Contacts = [] }),
    ];

    private static readonly TicketEvent[] TicketEvents =
    [
        new TicketEvent.Opened("T1", T0),
        new TicketEvent.Added(3),
        new TicketEvent.Closed(3),
        new TicketEvent.TimedOut(T0),
    ];

    [Fact]
    public void PartnerEvents_EveryRegisteredEvent_RoundTripsByItsStoredName()
    {
        var names = PartnerWorkflow.Definition.Events;
        PartnerEvents.Select(names.NameOf).ShouldBe(names.Names, ignoreOrder: true);

        foreach (var @event in PartnerEvents)
        {
            names.Deserialize(names.NameOf(@event), names.Serialize(@event)).ShouldBe(@event);
        }
    }

    [Fact]
    public void PartnerStates_EveryRegisteredState_RoundTripsByItsStoredName()
    {
        var names = PartnerWorkflow.Definition.States;
        PartnerState[] states = [new PartnerState.None(), new PartnerState.Registered("RC9", Details)];
        states.Select(names.NameOf).ShouldBe(names.Names, ignoreOrder: true);

        foreach (var state in states)
        {
            names.Deserialize(names.NameOf(state), names.Serialize(state)).ShouldBe(state);
        }
    }

    [Fact]
    public void PartnerCommands_EveryRegisteredCommand_RoundTripsByItsStoredName()
    {
        var names = PartnerWorkflow.Definition.Commands;
        PartnerCommand[] commands = [new PartnerCommand.SetDetails("RC9", Details)];
        commands.Select(names.NameOf).ShouldBe(names.Names, ignoreOrder: true);

        foreach (var command in commands)
        {
            names.Deserialize(names.NameOf(command), names.Serialize(command)).ShouldBe(command);
        }
    }

    [Fact]
    public void TicketEvents_EveryRegisteredEvent_RoundTripsByItsStoredName()
    {
        var names = TicketWorkflow.Definition.Events;
        TicketEvents.Select(names.NameOf).ShouldBe(names.Names, ignoreOrder: true);

        foreach (var @event in TicketEvents)
        {
            names.Deserialize(names.NameOf(@event), names.Serialize(@event)).ShouldBe(@event);
        }
    }

    [Fact]
    public void Serialize_WritesStoredDataWithoutClrTypeNames()
    {
        var json = PartnerWorkflow.Definition.Events.Serialize(PartnerEvents[0]);

        json.ShouldNotContain(nameof(PartnerEvent));
        json.ShouldContain("\"odsCode\":\"RC9\"");
        json.ShouldContain("\"sector\":\"acute\"");
    }

    [Fact]
    public void Deserialize_OfUnknownTypeName_ThrowsUnknownTypeNamingIt()
    {
        var error = Should.Throw<UnknownTypeException>(() => PartnerWorkflow.Definition.Events.Deserialize("PartnerDissolved", "{}"));

        error.Message.ShouldContain("'PartnerDissolved'");
    }

    [Fact]
    public void Deserialize_IsCaseSensitiveAboutStoredNames()
    {
        Should.Throw<UnknownTypeException>(() => PartnerWorkflow.Definition.Events.Deserialize("partnerregistered", "{}"));
    }

    [Fact]
    public void NameOf_UnregisteredType_ThrowsUnknownType()
    {
        var names = new TypeNames<TicketEvent>(("TicketOpened", typeof(TicketEvent.Opened)));

        var error = Should.Throw<UnknownTypeException>(() => names.NameOf(new TicketEvent.Added(1)));

        error.Message.ShouldContain(nameof(TicketEvent.Added));
    }

    [Fact]
    public void Register_SameNameTwice_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<TicketEvent>(
            ("TicketOpened", typeof(TicketEvent.Opened)), ("TicketOpened", typeof(TicketEvent.Added))));
    }

    [Fact]
    public void Register_SameTypeTwice_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<TicketEvent>(
            ("TicketOpened", typeof(TicketEvent.Opened)), ("TicketOpenedV2", typeof(TicketEvent.Opened))));
    }

    [Fact]
    public void Register_TypeOutsideTheClosedSet_Throws()
    {
        Should.Throw<ArgumentException>(() => new TypeNames<TicketEvent>(("PartnerRegistered", typeof(PartnerEvent.Registered))));
    }

    [Fact]
    public void PartnerWorkflow_RegistersEveryConcreteCommandEventAndState()
    {
        ShouldRegisterEveryCase(PartnerWorkflow.Definition);
    }

    [Fact]
    public void TicketWorkflow_RegistersEveryConcreteCommandEventAndState()
    {
        ShouldRegisterEveryCase(TicketWorkflow.Definition);
    }

    /// <summary>Every workflow declared in WinterOps.Core, found by reflection, so a new one is covered without a new test.</summary>
    public static TheoryData<string> CoreWorkflows() => [.. CoreDefinitions().Keys];

    [Theory]
    [MemberData(nameof(CoreWorkflows))]
    public void CoreWorkflow_RegistersEveryConcreteCommandEventAndState(string workflow)
    {
        var definition = CoreDefinitions()[workflow];
        var check = typeof(TypeNamesTests).GetMethod(nameof(ShouldRegisterEveryCase), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(definition.GetType().GetGenericArguments());

        check.Invoke(null, [definition]);
    }

    [Fact]
    public void CoreWorkflows_IncludeThePartnerRegistry()
    {
        CoreDefinitions().Keys.ShouldContain(PartnerWorkflow.Name);
    }

    private static Dictionary<string, IWorkflowDefinition> CoreDefinitions() =>
        typeof(PartnerWorkflow).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => f.FieldType.IsGenericType && f.FieldType.GetGenericTypeDefinition() == typeof(WorkflowDefinition<,,>))
            .Select(f => (IWorkflowDefinition)f.GetValue(null)!)
            .ToDictionary(d => d.Name, StringComparer.Ordinal);

    private static void ShouldRegisterEveryCase<TState, TCommand, TEvent>(WorkflowDefinition<TState, TCommand, TEvent> workflow)
        where TState : class
        where TCommand : class
        where TEvent : class
    {
        ConcreteCases<TCommand>().ShouldBeSubsetOf(workflow.Commands.Types, $"{workflow.Name}: unregistered commands");
        ConcreteCases<TEvent>().ShouldBeSubsetOf(workflow.Events.Types, $"{workflow.Name}: unregistered events");
        ConcreteCases<TState>().ShouldBeSubsetOf(workflow.States.Types, $"{workflow.Name}: unregistered states");
        workflow.States.Types.ShouldContain(workflow.Initial.GetType());
    }

    private static List<Type> ConcreteCases<T>() =>
        [.. typeof(T).IsAbstract
            ? typeof(T).GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).Where(t => !t.IsAbstract && typeof(T).IsAssignableFrom(t))
            : [typeof(T)]];
}
