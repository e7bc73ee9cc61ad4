using System.Runtime.InteropServices;

namespace MultiModal.Models.Runtime;

/// <summary>
/// The C library's environment, which native code (libtorch, libgomp) reads; .NET's <see cref="Environment"/> is a
/// managed copy on Linux, so a variable set there never reaches them.
/// </summary>
internal static class NativeEnvironment
{
    /// <summary>A variable as native code sees it, or null when unset.</summary>
    public static string? Get(string name) => Marshal.PtrToStringUTF8(getenv(name));

    /// <summary>Sets <paramref name="name"/> unless it is set already; whether the C library took it.</summary>
    public static bool SetIfUnset(string name, string value) => setenv(name, value, 0) == 0;

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name,
        [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc")]
    private static extern IntPtr getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
}
