using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Era.Figures;

/// <summary>
/// A minimal client for the Chrome DevTools Protocol over a WebSocket: send a command, await its reply by id;
/// events (console messages, page loads) go to <see cref="Event"/>. Uses "flat" sessions: a command for a tab
/// carries that tab's sessionId.
/// </summary>
internal sealed class DevToolsConnection : IDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private int _nextId;
    private volatile Exception? _closed;

    /// <summary>(method, params, sessionId) of every event, on the receiving thread.</summary>
    public event Action<string, JsonElement, string?>? Event;

    public static async Task<DevToolsConnection> ConnectAsync(Uri uri, CancellationToken ct)
    {
        var connection = new DevToolsConnection();
        try
        {
            await connection._socket.ConnectAsync(uri, ct).ConfigureAwait(false);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
        connection._receiving = Task.Run(connection.ReceiveLoopAsync);
        return connection;
    }

    /// <summary>Sends a command and returns its <c>result</c>; a protocol error becomes an <see cref="InvalidOperationException"/>.</summary>
    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters, string? sessionId, CancellationToken ct)
    {
        if (_closed is Exception closed) throw new FigureRenderException("the Chromium DevTools connection is closed (did the browser exit?)", closed);
        int id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (sessionId is not null) message["sessionId"] = sessionId;
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            byte[] bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
            await _sendLock.WaitAsync(ct).ConfigureAwait(false);
            // Not cancellable by the caller: cancelling a WebSocket send aborts the whole socket, so one timed-out
            // render would break the browser for every later one. Sends are small; the timeout applies to the reply.
            try { await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _closing.Token).ConfigureAwait(false); }
            finally { _sendLock.Release(); }
            // The connection may have closed between the check above and registering this reply.
            if (_closed is Exception gone) reply.TrySetException(new FigureRenderException("the Chromium DevTools connection closed", gone));
            using (ct.Register(() => reply.TrySetCanceled(ct)))
                return await reply.Task.ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        Exception reason = new IOException("the browser closed the connection");
        try
        {
            while (true)
            {
                var r = await _socket.ReceiveAsync(buffer, _closing.Token).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                Dispatch(message.GetBuffer().AsMemory(0, (int)message.Length));
                message.SetLength(0);
            }
        }
        catch (Exception e)
        {
            reason = e;
        }
        _closed = reason;
        foreach (var reply in _pending.Values)
            reply.TrySetException(new FigureRenderException("the Chromium DevTools connection closed (did the browser exit?)", reason));
    }

    private void Dispatch(ReadOnlyMemory<byte> json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.TryGetProperty("id", out var id))
        {
            if (!_pending.TryGetValue(id.GetInt32(), out var reply)) return;
            if (root.TryGetProperty("error", out var error))
                reply.TrySetException(new InvalidOperationException(error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString()));
            else
                reply.TrySetResult(root.TryGetProperty("result", out var result) ? result.Clone() : default);
        }
        else if (root.TryGetProperty("method", out var method))
        {
            string? session = root.TryGetProperty("sessionId", out var s) ? s.GetString() : null;
            var parameters = root.TryGetProperty("params", out var p) ? p.Clone() : default;
            try
            {
                Event?.Invoke(method.GetString() ?? "", parameters, session);
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException)
            {
                // An event shaped other than expected must not stop the replies from arriving.
            }
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        try { _receiving.Wait(TimeSpan.FromSeconds(2)); } catch (AggregateException) { }
        _socket.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
    }
}
