using Bridge.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// ConfigureFunctionsWebApplication enables the ASP.NET Core integration that HTTP streaming needs.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddBridgeFunctions(builder.Configuration);
builder.Build().Run();
