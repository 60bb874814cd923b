namespace Era.Engine.Kernels;

/// <summary>
/// A tiny fixed-size thread team for the kernels (instead of Parallel.For, which allocates and schedules freely).
/// <see cref="Run"/> calls body(0..Threads-1) once each, chunk 0 on the calling thread and chunk t on worker t:
/// the split of work into chunks depends only on the thread count, so results are deterministic. Steady-state
/// calls allocate nothing (the caller caches its delegate).
/// </summary>
public static class Workers
{
    private static readonly object Gate = new();
    private static Team _team = new(Math.Max(1, Environment.ProcessorCount));
    [ThreadStatic] private static bool _inside;

    public static int Threads => _team.Size;

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

    /// <summary>Work (in elements) below which <see cref="Run(Action{int}, long)"/> stays on the calling thread: waking a worker costs more.</summary>
    public const long MinParallelWork = 32 * 1024;

    /// <summary>As <see cref="Run(Action{int})"/>, but small jobs run their chunks one after the other on this thread (same chunks, same result).</summary>
    public static void Run(Action<int> body, long work)
    {
        if (work >= MinParallelWork) Run(body);
        else
            for (int c = 0; c < Threads; c++) body(c);
    }

    /// <summary>Runs body(chunk) for chunk = 0..Threads-1 in parallel and waits for all. Nested calls run serially.</summary>
    public static void Run(Action<int> body)
    {
        if (_inside)
        {
            for (int c = 0; c < Threads; c++) body(c);
            return;
        }
        lock (Gate)
        {
            _inside = true;
            try { _team.Run(body); }
            finally { _inside = false; }
        }
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
