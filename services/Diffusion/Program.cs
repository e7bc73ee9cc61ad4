using MultiModal.Diffusion;

var builder = WebApplication.CreateBuilder(args);
builder.AddDiffusionService();

var app = builder.Build();
app.MapDiffusionService();
app.Run();
