using MultiModal.Clip;

var builder = WebApplication.CreateBuilder(args);
builder.AddClipService();

var app = builder.Build();
app.MapClipService();
app.Run();
