namespace MultiModal.Models.Runtime;

/// <summary>bfloat16 as its 16 bits: the high half of a float32.</summary>
internal static class BFloat16Bits
{
    /// <summary>The float32 a bfloat16 stands for (exact).</summary>
    public static float ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>float32 → bfloat16, rounded to nearest even, NaN kept a (quiet) NaN: libtorch's conversion.</summary>
    public static ushort Round(float value)
    {
        if (float.IsNaN(value))
            return 0x7FC0;
        var bits = BitConverter.SingleToUInt32Bits(value);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }
}
