using System.Reflection;
using System.Runtime.Loader;

namespace Era.Torch.Probe;

/// <summary>
/// The child process of <c>TorchNative.EnsureLoaded</c>'s convolution probe, started as
/// <c>dotnet exec --runtimeconfig R Era.Torch.Probe.dll</c>. <see cref="PathsVariable"/> lists the folders (':'-separated)
/// holding Era.Torch.dll and its dependencies; the probe itself (<c>Era.Torch.ConvolutionProbe.Child</c>) prints one
/// line of JSON on stdout.
/// </summary>
public static class ProbeHost
{
    public const string PathsVariable = "ERA_TORCH_PROBE_PATHS";

    public static int Main(string[] args)
    {
        string[] folders = (Environment.GetEnvironmentVariable(PathsVariable) ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
            folders.Select(f => Path.Combine(f, name.Name + ".dll")).Where(File.Exists).Select(context.LoadFromAssemblyPath).FirstOrDefault();
        var probe = Assembly.Load("Era.Torch").GetType("Era.Torch.ConvolutionProbe", throwOnError: true)!;
        return (int)probe.GetMethod("Child", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [args])!;
    }
}
