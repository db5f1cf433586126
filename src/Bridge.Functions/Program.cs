using Bridge.Subscribers;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// The same services as the standalone server (src/Bridge.Server/BridgeServer.cs), from the same settings, plus the
// ingestion rules. ConfigureFunctionsWebApplication enables the ASP.NET Core integration that HTTP streaming needs.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services
    .AddBridgeCore(builder.Configuration)
    .AddBridgeHttp(builder.Configuration)
    .AddTableEventLog(builder.Configuration)
    .AddBridgeIngestion(builder.Configuration);
builder.Services.AddOptions<SseOptions>().Validate(
    sse => sse.MaxDurationSeconds < 230,
    "On Azure Functions, Sse:MaxDurationSeconds must stay below 230: the front end ends HTTP requests after 230 seconds.");

builder.Build().Run();
