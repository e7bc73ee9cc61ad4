using MultiModal.Gateway;

// One address for the fleet: routes each gRPC service prefix to its cluster (see appsettings.json and README.md).
var builder = WebApplication.CreateBuilder(args);
builder.AddGateway();                 // Kestrel h2c + listen address, YARP with Gateway:Upstreams, health checks
var app = builder.Build();
app.MapGateway();                     // GET /healthz, grpc.health.v1, the proxy, "Gateway listening on ..."
app.Run();
