using System.Text.Json;

namespace WinterOps.Functions.Http;

/// <summary>Enum values as the API spells them (camelCase), parsed strictly: no numbers, no other casing.</summary>
public static class Names<T> where T : struct, Enum
{
    public static IReadOnlyList<string> All { get; } = Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName).ToList();

    public static string Of(T value) => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    public static bool TryParse(string? value, out T parsed)
    {
        for (var i = 0; i < All.Count; i++)
        {
            if (All[i] == value)
            {
                parsed = Enum.GetValues<T>()[i];
                return true;
            }
        }

        parsed = default;
        return false;
    }

    public static string Expected => $"Use one of: {string.Join(", ", All)}.";
}
