namespace Era.Engine.Kernels;

/// <summary>
/// One parallel job: <see cref="Execute"/> does chunk <c>chunk</c> of <c>chunks</c> (use <see cref="Workers.Range"/>
/// to turn it into a range of items). Jobs are small readonly structs that hold the arrays and sizes of one call.
/// </summary>
public interface IChunkJob
{
    /// <summary>Does chunk <paramref name="chunk"/> (0 ≤ chunk &lt; chunks) of the work.</summary>
    void Execute(int chunk, int chunks);
}

/// <summary>
/// A tiny fixed-size thread team for the kernels (instead of Parallel.For, which allocates and schedules freely).
/// <see cref="Run{TJob}(in TJob)"/> calls job.Execute(chunk, Threads) once for each chunk = 0..Threads-1, chunk 0 on the
/// calling thread and chunk t on worker t: the split of work into chunks depends only on the thread count, so results
/// are deterministic.
/// <code>
///   readonly struct Scale(float[] x, float a) : IChunkJob       // the call's arguments travel in the job
///   {
///       public void Execute(int chunk, int chunks)
///       {
///           var (start, end) = Workers.Range(x.Length, chunk, chunks);
///           for (int i = start; i &lt; end; i++) x[i] *= a;
///       }
///   }
///   Workers.Run(new Scale(x, 2f), x.Length);
/// </code>
/// A call's arguments travel in its job, not in fields of the module (nor of this class: the team sees a job only while
/// it runs), so no call can overwrite another's, and two models can train on two threads at once. The job is a struct
/// passed by reference: nothing is allocated. One parallel job runs at a time (a lock); a Run inside a job, or one
/// with little work, runs its chunks one after the other on the calling thread (the same chunks, so the same result).
/// </summary>
public static class Workers
{
    private static readonly object Gate = new();
    private static Team _team = new(Math.Max(1, Environment.ProcessorCount));
    [ThreadStatic] private static bool _inside;

    /// <summary>The number of chunks every job is split into: the team's size (torch.set_num_threads).</summary>
    public static int Threads => _team.Size;

    /// <summary>Replaces the team with one of <paramref name="threads"/> threads (the calling thread and threads − 1 workers).</summary>
    public static void SetThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), $"set_num_threads: need at least 1 thread, got {threads}");
        lock (Gate)
        {
            if (threads == _team.Size) return;
            _team.Dispose();
            _team = new Team(threads);
        }
    }

    /// <summary>The half-open range [start, end) of chunk <paramref name="chunk"/> when <paramref name="total"/> items are split into <paramref name="chunks"/>.</summary>
    public static (int Start, int End) Range(int total, int chunk, int chunks) =>
        ((int)((long)total * chunk / chunks), (int)((long)total * (chunk + 1) / chunks));

    /// <summary>One zeroed array of <paramref name="length"/> floats per chunk of the current team: a kernel's scratch, indexed by chunk.</summary>
    public static float[][] PerChunk(int length)
    {
        var a = new float[Threads][];
        for (int t = 0; t < a.Length; t++) a[t] = new float[length];
        return a;
    }

    /// <summary>Work (in elements) below which <see cref="Run{TJob}(in TJob, long)"/> stays on the calling thread: waking a worker costs more.</summary>
    public const long MinParallelWork = 32 * 1024;

    /// <summary>As <see cref="Run{TJob}(in TJob)"/>, but small jobs run their chunks one after the other on this thread (same chunks, same result).</summary>
    public static void Run<TJob>(in TJob job, long work) where TJob : struct, IChunkJob
    {
        if (work >= MinParallelWork) Run(in job);
        else RunHere(in job);
    }

    /// <summary>Runs job.Execute(chunk, Threads) for chunk = 0..Threads-1 in parallel and waits for all. Nested calls run serially.</summary>
    public static void Run<TJob>(in TJob job) where TJob : struct, IChunkJob
    {
        if (_inside)
        {
            RunHere(in job);
            return;
        }
        lock (Gate)
        {
            _inside = true;
            Slot<TJob>.Job = job;                    // the workers read the job from here…
            try { _team.Run(Slot<TJob>.Body); }
            finally
            {
                Slot<TJob>.Job = default;            // …and it is cleared after, so the job's arrays can be collected
                _inside = false;
            }
        }
    }

    /// <summary>All chunks on the calling thread, in order.</summary>
    private static void RunHere<TJob>(in TJob job) where TJob : struct, IChunkJob
    {
        int chunks = Threads;
        for (int c = 0; c < chunks; c++) job.Execute(c, chunks);
    }

    /// <summary>
    /// Where the workers find the job of type TJob that is running: one static field and one cached delegate per job
    /// type (so nothing is allocated per call). Only written under <see cref="Gate"/>, so one job at a time uses it.
    /// </summary>
    private static class Slot<TJob> where TJob : struct, IChunkJob
    {
        public static TJob Job;
        public static readonly Action<int> Body = chunk => Job.Execute(chunk, Threads);
    }

    private sealed class Team : IDisposable
    {
        private readonly Thread[] _threads;
        private readonly SemaphoreSlim[] _go;
        private Action<int>? _job;
        private int _pending;
        private Exception? _error;
        private volatile bool _stop;

        public Team(int size)
        {
            Size = size;
            _threads = new Thread[size - 1];
            _go = new SemaphoreSlim[size - 1];
            for (int i = 0; i < size - 1; i++)
            {
                _go[i] = new SemaphoreSlim(0);
                int chunk = i + 1;
                _threads[i] = new Thread(() => Loop(chunk)) { IsBackground = true, Name = $"era-worker-{chunk}" };
                _threads[i].Start();
            }
        }

        public int Size { get; }

        public void Run(Action<int> body)
        {
            if (Size == 1) { body(0); return; }
            _job = body;
            _error = null;
            Volatile.Write(ref _pending, Size - 1);
            foreach (var g in _go) g.Release();
            try { body(0); }
            catch (Exception e) { _error ??= e; }
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            if (_error is { } err) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(err).Throw();
        }

        private void Loop(int chunk)
        {
            _inside = true;
            while (true)
            {
                _go[chunk - 1].Wait();
                if (_stop) return;
                try { _job!(chunk); }
                catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
                Interlocked.Decrement(ref _pending);
            }
        }

        public void Dispose()
        {
            _stop = true;
            foreach (var g in _go) g.Release();
        }
    }
}
