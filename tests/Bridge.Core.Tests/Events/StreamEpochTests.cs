using Bridge.Events;

namespace Bridge.Core.Tests.Events;

/// <summary>Where a client holding a cursor of some epoch resumes in the stream's current epoch.</summary>
public class StreamEpochTests
{
    private static readonly StreamEpoch Original = new("original", null, 1);
    private static readonly StreamEpoch Replaced = new("replaced", "original", ReplacedFrom: 7);

    [Theory]
    [InlineData("replaced", 9, 9, false)]  // its own epoch: nothing to do
    [InlineData(null, 9, 9, false)]        // a bare id is taken to be in the current epoch
    [InlineData("original", 6, 6, false)]  // the parent's ids before the replacement are the same events
    [InlineData("original", 7, 6, true)]   // from the replacement on they are not: drop what came after 6
    [InlineData("original", 50, 6, true)]
    [InlineData("unknown", 3, 0, true)]    // an epoch with nothing in common: start again
    [InlineData("unknown", 0, 0, false)]   // nothing held, nothing to drop
    public void A_cursor_resumes_where_its_history_and_the_current_one_part(string? epoch, long position, long resumeAfter, bool replaced)
    {
        Assert.Equal(resumeAfter, Replaced.ResumePoint(epoch, position, out var wasReplaced));
        Assert.Equal(replaced, wasReplaced);
    }

    [Fact]
    public void An_epoch_that_replaces_another_names_it_and_the_first_id_that_may_differ()
    {
        var next = Original.ReplaceAfter(keptThroughId: 41);

        Assert.Equal("original", next.ParentId);
        Assert.Equal(42, next.ReplacedFrom);
        Assert.Matches("^[a-z0-9]{8}$", next.Id);
        Assert.NotEqual(next.Id, Original.ReplaceAfter(41).Id);
    }

    [Fact]
    public void A_new_stream_gets_a_fresh_epoch_with_no_parent()
    {
        var first = StreamEpoch.Start();

        Assert.Null(first.ParentId);
        Assert.Matches("^[a-z0-9]{8}$", first.Id);
        Assert.NotEqual(first.Id, StreamEpoch.Start().Id);
    }
}
