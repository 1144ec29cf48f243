using System.Text.Json;

namespace WinterOps.Core.Workflows;

/// <summary>
/// The stored names of a closed set of types (events, commands, states). Stored data names its type
/// by these strings, never by CLR names, so classes can be renamed and moved freely; a name, once
/// stored, is a contract that stays readable forever.
/// </summary>
public sealed class TypeNames<T> where T : class
{
    private readonly Dictionary<string, Type> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, string> _names = [];

    public TypeNames(params (string Name, Type Type)[] entries)
    {
        foreach (var (name, type) in entries)
        {
            if (!typeof(T).IsAssignableFrom(type))
            {
                throw new ArgumentException($"{type.Name} is not a {typeof(T).Name}.", nameof(entries));
            }

            if (!_types.TryAdd(name, type) || !_names.TryAdd(type, name))
            {
                throw new ArgumentException($"'{name}' or {type.Name} is registered twice.", nameof(entries));
            }
        }
    }

    public IReadOnlyCollection<Type> Types => _names.Keys;

    public IReadOnlyCollection<string> Names => _types.Keys;

    public string NameOf(T value) =>
        _names.TryGetValue(value.GetType(), out var name)
            ? name
            : throw new UnknownTypeException($"{value.GetType().Name} has no stored name; register it in its workflow.");

    public bool Knows(string name) => _types.ContainsKey(name);

    public string Serialize(T value) => JsonSerializer.Serialize(value, value.GetType(), WorkflowJson.Options);

    public T Deserialize(string name, string json)
    {
        if (!_types.TryGetValue(name, out var type))
        {
            throw new UnknownTypeException($"Unknown {typeof(T).Name} type '{name}': known types are {string.Join(", ", _types.Keys)}.");
        }

        return (T)(JsonSerializer.Deserialize(json, type, WorkflowJson.Options)
            ?? throw new JsonException($"Stored {name} is null."));
    }
}

/// <summary>Stored data names a type this version of WinterOps does not know.</summary>
public sealed class UnknownTypeException(string message) : Exception(message);
