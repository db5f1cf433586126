using Bridge.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Bridge.Functions;

/// <summary>
/// The HTTP API, on the same routes as the standalone server. Each function hands the request to
/// <see cref="BridgeHttpHandlers"/>, which writes the whole response (including SSE streaming, through the ASP.NET Core
/// integration), so there is no logic here to drift from the server: the handlers check tokens themselves. Publishing
/// also needs a function key, as an extra gate; everything else is anonymous at the Functions level.
/// </summary>
public sealed class HttpFunctions(BridgeHttpHandlers handlers)
{
    [Function("Subscribe")]
    public async Task<IActionResult> SubscribeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = BridgeRoutes.Events)] HttpRequest request,
        string stream)
    {
        await handlers.SubscribeAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("Publish")]
    public async Task<IActionResult> PublishAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = BridgeRoutes.Events)] HttpRequest request,
        string stream)
    {
        await handlers.PublishAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("PublishBatch")]
    public async Task<IActionResult> PublishBatchAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = BridgeRoutes.Batch)] HttpRequest request,
        string stream)
    {
        await handlers.PublishBatchAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("CreateSession")]
    public async Task<IActionResult> CreateSessionAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = BridgeRoutes.Session)] HttpRequest request)
    {
        await handlers.CreateSessionAsync(request.HttpContext);
        return new EmptyResult();
    }

    [Function("DeleteSession")]
    public async Task<IActionResult> DeleteSessionAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = BridgeRoutes.Session)] HttpRequest request)
    {
        await handlers.DeleteSessionAsync(request.HttpContext);
        return new EmptyResult();
    }

    [Function("Health")]
    public async Task<IActionResult> HealthAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = BridgeRoutes.Health)] HttpRequest request)
    {
        await handlers.HealthAsync(request.HttpContext);
        return new EmptyResult();
    }
}
