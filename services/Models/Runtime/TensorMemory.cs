using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>The address of a tensor's first element (storage offset included), for kernels that read it directly.</summary>
public static class TensorMemory
{
    // TorchSharp 0.107 binds tensor.data_ptr() only behind typed accessors; LibTorchSharp exports it as THSTensor_data.
    public static IntPtr DataPointer(Tensor tensor) => THSTensor_data(tensor.Handle);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);
}
