using MultiModal.Vision;

var builder = WebApplication.CreateBuilder(args);
builder.AddVisionService();

var app = builder.Build();
app.MapVisionService();
app.Run();
