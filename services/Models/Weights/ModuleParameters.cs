using System.Reflection;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiModal.Models.Weights;

/// <summary>
/// Swaps one parameter of a module for another object, keeping the module's field or property and its registration in
/// step (what TorchSharp's own <c>Module.to</c> does when it moves parameters). TorchSharp's layers (Linear, Conv2d,
/// LayerNorm, GroupNorm, Embedding) expose a settable <c>weight</c>/<c>bias</c> that re-registers; our own modules keep
/// each parameter in a field named like its state-dict key, registered by <c>RegisterComponents</c>.
/// </summary>
internal static class ModuleParameters
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    // Module.ConditionallyRegisterParameter(string, Parameter) is protected: it replaces a registration, which
    // register_parameter refuses to do.
    private static readonly MethodInfo Register = typeof(nn.Module).GetMethod("ConditionallyRegisterParameter", Instance,
            [typeof(string), typeof(Parameter)])
        ?? throw new MissingMethodException("TorchSharp's Module.ConditionallyRegisterParameter(string, Parameter) is gone.");

    public static void Replace(nn.Module owner, string name, Parameter value)
    {
        // The module owns its parameters from now on, whatever dispose scope the caller (e.g. a test) has open: as
        // TorchSharp's own layers' weight/bias setters do, for our field-held parameters too.
        value.DetachFromDisposeScope();
        var type = owner.GetType();
        if (type.GetProperty(name, BindingFlags.Instance | BindingFlags.Public) is { CanWrite: true } property
            && property.PropertyType.IsAssignableFrom(typeof(Parameter)))
        {
            property.SetValue(owner, value);
        }
        else if (FieldOf(type, name) is { } field)
        {
            field.SetValue(owner, value);
            Register.Invoke(owner, [name, value]);
        }
        else
        {
            throw new InvalidOperationException(
                $"{type.Name}.{name} is neither a settable Parameter property nor a Parameter field named like its key.");
        }
        if (owner.get_parameter(name) is not { } registered || registered.Handle != value.Handle)
            throw new InvalidOperationException($"{type.Name}.{name} did not take the new parameter.");
    }

    private static FieldInfo? FieldOf(Type? type, string name)
    {
        for (; type is not null && type != typeof(nn.Module); type = type.BaseType)
            if (type.GetField(name, Instance | BindingFlags.DeclaredOnly) is { } field && field.FieldType.IsAssignableFrom(typeof(Parameter)))
                return field;
        return null;
    }
}
