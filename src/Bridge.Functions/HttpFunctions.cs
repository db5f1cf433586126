using Bridge.Http;
using Bridge.Http.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Bridge.Functions;

/// <summary>
/// The HTTP API, on the same routes as the standalone server. Each function hands the request to the same endpoint
/// class the server maps, which writes the whole response (including SSE streaming, through the ASP.NET Core
/// integration), so there is no logic here to drift from the server: the endpoints check tokens themselves.
/// Publishing also needs a function key, as an extra gate; everything else is anonymous at the Functions level.
/// </summary>
public sealed class HttpFunctions(
    SubscribeEndpoint subscribe,
    PublishEndpoint publish,
    PublishBatchEndpoint publishBatch,
    SessionCookieEndpoints sessionCookie,
    HealthEndpoint health)
{
    [Function("Subscribe")]
    public async Task<IActionResult> SubscribeAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = BridgeRoutes.Events)] HttpRequest request,
        string stream)
    {
        await subscribe.HandleAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("SubscribeSeveral")]
    public async Task<IActionResult> SubscribeSeveralAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = BridgeRoutes.Subscription)] HttpRequest request)
    {
        await subscribe.HandleSeveralAsync(request.HttpContext);
        return new EmptyResult();
    }

    [Function("Publish")]
    public async Task<IActionResult> PublishAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = BridgeRoutes.Events)] HttpRequest request,
        string stream)
    {
        await publish.HandleAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("PublishBatch")]
    public async Task<IActionResult> PublishBatchAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = BridgeRoutes.Batch)] HttpRequest request,
        string stream)
    {
        await publishBatch.HandleAsync(request.HttpContext, stream);
        return new EmptyResult();
    }

    [Function("CreateSession")]
    public async Task<IActionResult> CreateSessionAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = BridgeRoutes.Session)] HttpRequest request)
    {
        await sessionCookie.CreateAsync(request.HttpContext);
        return new EmptyResult();
    }

    [Function("DeleteSession")]
    public async Task<IActionResult> DeleteSessionAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = BridgeRoutes.Session)] HttpRequest request)
    {
        await sessionCookie.DeleteAsync(request.HttpContext);
        return new EmptyResult();
    }

    [Function("Health")]
    public async Task<IActionResult> HealthAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = BridgeRoutes.Health)] HttpRequest request)
    {
        await health.HandleAsync(request.HttpContext);
        return new EmptyResult();
    }
}
