using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Bridge.Functions.Tests;

/// <summary>The Functions app's source, parsed (not compiled): its functions and their trigger attributes.</summary>
internal static class FunctionsSource
{
    public static string Directory { get; } = Path.Combine(RepositoryPaths.Root, "src", "Bridge.Functions");

    public static IReadOnlyList<MethodDeclarationSyntax> Functions { get; } =
    [
        .. System.IO.Directory.GetFiles(Directory, "*.cs")
            .Select(file => CSharpSyntaxTree.ParseText(File.ReadAllText(file), path: file).GetRoot())
            .SelectMany(root => root.DescendantNodes().OfType<MethodDeclarationSyntax>())
            .Where(method => Attribute(method.AttributeLists, "Function") is not null),
    ];

    public static string Name(MethodDeclarationSyntax function) =>
        Literal(Attribute(function.AttributeLists, "Function")!.ArgumentList!.Arguments[0].Expression);

    /// <summary>The attribute named <paramref name="name"/> (with or without the Attribute suffix), if present.</summary>
    public static AttributeSyntax? Attribute(SyntaxList<AttributeListSyntax> lists, string name) =>
        lists.SelectMany(list => list.Attributes).FirstOrDefault(attribute =>
            attribute.Name.ToString() == name || attribute.Name.ToString() == name + "Attribute");

    /// <summary>The parameter carrying the trigger attribute <paramref name="trigger"/>, with the attribute.</summary>
    public static (ParameterSyntax Parameter, AttributeSyntax Attribute)? Trigger(MethodDeclarationSyntax function, string trigger) =>
        function.ParameterList.Parameters
            .Select(parameter => (parameter, Attribute(parameter.AttributeLists, trigger)))
            .Where(pair => pair.Item2 is not null)
            .Select(pair => ((ParameterSyntax, AttributeSyntax)?)(pair.parameter, pair.Item2!))
            .SingleOrDefault();

    public static ExpressionSyntax? Named(AttributeSyntax attribute, string name) =>
        attribute.ArgumentList?.Arguments.FirstOrDefault(argument => argument.NameEquals?.Name.Identifier.Text == name)?.Expression;

    public static IReadOnlyList<ExpressionSyntax> Positional(AttributeSyntax attribute) =>
        [.. attribute.ArgumentList?.Arguments.Where(argument => argument.NameEquals is null).Select(argument => argument.Expression) ?? []];

    public static string Literal(ExpressionSyntax expression) =>
        expression is LiteralExpressionSyntax literal ? literal.Token.ValueText : throw new InvalidOperationException($"{expression} is not a literal.");

    /// <summary>The invocations in a function's body, as "receiver.Method".</summary>
    public static IReadOnlyList<string> Calls(MethodDeclarationSyntax function) =>
        [.. function.DescendantNodes().OfType<InvocationExpressionSyntax>().Select(call => call.Expression.ToString())];
}
