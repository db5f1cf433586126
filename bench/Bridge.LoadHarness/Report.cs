using System.Text;

namespace Bridge.LoadHarness;

/// <summary>Progress on stderr while a scenario runs, and a Markdown report on stdout (or a file) at the end.</summary>
internal sealed class Report(TextWriter progress)
{
    private readonly StringBuilder _markdown = new();

    public void Progress(string message) => progress.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    public void Heading(string title) => _markdown.AppendLine().AppendLine($"### {title}").AppendLine();

    public void Line(string text) => _markdown.AppendLine(text);

    public void Table(string[] header, IEnumerable<string[]> rows)
    {
        _markdown.AppendLine("| " + string.Join(" | ", header) + " |");
        _markdown.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var row in rows)
        {
            _markdown.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        _markdown.AppendLine();
    }

    public override string ToString() => _markdown.ToString();
}
