namespace MultiModal.ShapesWorld;

/// <summary>
/// One image of the world: a shape of <see cref="Color"/> on a plain <see cref="Background"/>. Geometry is in units of
/// the image side (0..1), so a scene renders the same at any resolution: the shape's center, its radius (circumradius;
/// a square's half-diagonal) and its rotation. <see cref="ColorJitter"/> offsets each channel of both colors a little
/// and <see cref="NoiseSeed"/> seeds the per-pixel noise.
/// </summary>
public sealed record WorldScene(
    WorldShape Shape,
    WorldColor Color,
    WorldSize Size,
    WorldColor Background,
    double CenterX,
    double CenterY,
    double Radius,
    double RotationDegrees,
    (int R, int G, int B) ShapeJitter,
    (int R, int G, int B) BackgroundJitter,
    int NoiseSeed);
