namespace Bridge.Events;

/// <summary>The character rules shared by stream names and event types.</summary>
internal static class NameRules
{
    /// <summary>
    /// True when every character is an ASCII letter or digit or one of <c>- _ . :</c>. That set is legal in storage
    /// keys, needs no escaping in a URL path or a query filter, and cannot break an SSE line.
    /// </summary>
    public static bool HasOnlyNameCharacters(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    public const string AllowedCharactersDescription = "ASCII letters, digits, '-', '_', '.' and ':'";
}
