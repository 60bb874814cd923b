"""Minimal safetensors reader/writer with numpy and struct only (the safetensors pip package is not in Debian).
Format: 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets}}, then raw data."""
import json, struct
import numpy as np

DTYPES = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'I32': np.int32, 'U8': np.uint8}


def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, end = e['data_offsets']
        dt = np.dtype(DTYPES[e['dtype']]).newbyteorder('<')
        out[name] = np.frombuffer(body[b:end], dtype=dt).reshape(e['shape']).copy()
    return out


def write(path, tensors, metadata=None):
    """tensors: dict name -> numpy array (float32, float64 or int64), written in the dict's order."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        code = {np.dtype(np.float32): 'F32', np.dtype(np.float64): 'F64', np.dtype(np.int64): 'I64'}[a.dtype]
        raw = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': code, 'shape': list(a.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(chunks))
