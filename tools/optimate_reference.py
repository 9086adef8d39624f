#!/usr/bin/python3
"""Independent reference of rung's OPTIMATE model (doc/ml-model.md, Graph and Network). Not part of CI.

Everything here is written from the paper's model description, not from rung's C++ code:
  * crystal graph in numpy (brute-force periodic images in a range safe for any cell, d^2 < 25 + 1e-8,
    only the zero-distance self pair dropped; 51 Gaussians sqrt(10/pi) exp(-10 (d - 0.1k)^2));
  * the network with PyTorch Geometric (MLP, GATv2Conv, utils.softmax, global_add_pool) when it is
    importable, else a plain-PyTorch re-implementation of exactly those PyG layers (PyG 2.3-2.5
    semantics: MLP = Linear -> BatchNorm -> ReLU per hidden layer, plain last Linear; GATv2Conv with
    edge features, concat heads, add_self_loops=False, negative_slope 0.2, sum aggregation);
  * weights read with h5py from a rung model file (/members/<k>/<state-dict name>), load_state_dict(strict).

Sub-commands (run with /usr/bin/python3: Debian's python3-torch, numpy, h5py):
  make-dataset --jsonl J --count N -o DATA.h5   synthetic rung data set (layout rung-optimate-dataset v1)
  compare --rung BUILD/src/cli/rung --model M.h5 --jsonl J [--count 60] [--float64]
      runs `rung predict` on the structures and compares its outputs with the reference's
      (prints max abs / rel difference; exit 1 above --tol, default 1e-5 for float32, 1e-9 for float64)
  bench --model M.h5 --jsonl J [--batch 64] --out T.json   times parse, numpy graph build and forward
      on one thread (called by `rung bench ml`)
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings

import h5py
import numpy as np
import torch

warnings.filterwarnings("ignore", message="scatter_reduce")  # torch 1.13: "in beta"; PyG uses it too

try:  # PyG when available (pip install torch_geometric); else the plain re-implementation below.
    import torch_geometric  # noqa: F401
    from torch_geometric.nn import MLP as PygMLP, GATv2Conv as PygGATv2Conv, global_add_pool as pyg_global_add_pool
    from torch_geometric.utils import softmax as pyg_softmax
    HAVE_PYG = True
except Exception:  # pragma: no cover - depends on the machine
    HAVE_PYG = False

# ---------------------------------------------------------------------------------------------------
# Graph (doc/ml-model.md, Graph)
CUTOFF = 5.0
GROUPS = {  # group index: [(symbol, row index)]
    0: [("H", 0), ("Li", 1), ("Na", 2), ("K", 3), ("Rb", 4)],
    1: [("Be", 1), ("Mg", 2), ("Ca", 3), ("Sr", 4)],
    2: [("B", 1), ("Al", 2), ("Ga", 3), ("In", 4)],
    3: [("C", 1), ("Si", 2), ("Ge", 3), ("Sn", 4)],
    4: [("N", 1), ("P", 2), ("As", 3), ("Sb", 4)],
    5: [("O", 1), ("S", 2), ("Se", 3), ("Te", 4)],
    6: [("F", 1), ("Cl", 2), ("Br", 3), ("I", 4)],
    7: [("He", 0), ("Ne", 1), ("Ar", 2), ("Kr", 3), ("Xe", 4)],
}
ENCODING = {sym: (g, r) for g, lst in GROUPS.items() for sym, r in lst}
MU = np.linspace(0.0, 5.0, 51)


def node_features(species):
    x = np.zeros((len(species), 13), dtype=np.float32)
    for i, s in enumerate(species):
        g, r = ENCODING[s]
        x[i, g] = 1.0
        x[i, 8 + r] = 1.0
    return x


def build_graph(lattice, frac, species):
    """lattice rows in Angstrom, fractional coordinates; returns x, edge_index (2xE), edge_attr (Ex51)."""
    lat = np.asarray(lattice, dtype=np.float64)
    f = np.asarray(frac, dtype=np.float64)
    f = f - np.floor(f)
    cart = f @ lat
    vol = abs(np.linalg.det(lat))
    rng = []
    for k in range(3):
        h = vol / np.linalg.norm(np.cross(lat[(k + 1) % 3], lat[(k + 2) % 3]))
        rng.append(int(math.ceil(CUTOFF / h)) + 1)
    grid = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in rng], indexing="ij"), -1).reshape(-1, 3)
    shifts = grid @ lat  # M x 3
    # d[i, j, m] = cart[j] + shift[m] - cart[i]
    d = cart[None, :, None, :] + shifts[None, None, :, :] - cart[:, None, None, :]
    d2 = np.einsum("ijmk,ijmk->ijm", d, d)
    n = len(species)
    keep = d2 < CUTOFF * CUTOFF + 1e-8
    keep &= ~((np.arange(n)[:, None, None] == np.arange(n)[None, :, None]) & (d2 <= 1e-16))
    ii, jj, mm = np.nonzero(keep)
    dist = np.sqrt(d2[ii, jj, mm])
    edge_attr = (math.sqrt(10.0 / math.pi) * np.exp(-10.0 * (dist[:, None] - MU[None, :]) ** 2)).astype(np.float32)
    edge_index = np.stack([ii, jj]).astype(np.int64)  # row 0 = centre atom, row 1 = neighbour
    return node_features(species), edge_index, edge_attr


def read_jsonl(path, count=None, spread=False):
    """The first `count` records, or with spread=True `count` records evenly spaced over the file."""
    with open(path) as fh:
        recs = [json.loads(line) for line in fh if line.strip()]
    if count is None or count >= len(recs):
        return recs
    if spread:
        idx = np.unique(np.linspace(0, len(recs) - 1, count).round().astype(int))
        return [recs[i] for i in idx]
    return recs[:count]


def collate(graphs, dtype=torch.float32):
    xs, eis, eas, bs = [], [], [], []
    off = 0
    for b, (x, ei, ea) in enumerate(graphs):
        xs.append(x)
        eis.append(ei + off)
        eas.append(ea)
        bs.append(np.full(len(x), b, dtype=np.int64))
        off += len(x)
    return (torch.from_numpy(np.concatenate(xs)).to(dtype), torch.from_numpy(np.concatenate(eis, 1)),
            torch.from_numpy(np.concatenate(eas)).to(dtype), torch.from_numpy(np.concatenate(bs)), len(graphs))


# ---------------------------------------------------------------------------------------------------
# Plain-PyTorch re-implementation of the PyG layers used (only when PyG is absent).
def seg_softmax(src, index, num):
    """torch_geometric.utils.softmax(src, index, num_nodes=num) along dim 0."""
    shape = (num,) + tuple(src.shape[1:])
    idx = index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)
    src_max = torch.zeros(shape, dtype=src.dtype).scatter_reduce(0, idx, src.detach(), reduce="amax", include_self=False)
    out = (src - src_max.index_select(0, index)).exp()
    out_sum = torch.zeros(shape, dtype=src.dtype).scatter_add(0, idx, out) + 1e-16
    return out / out_sum.index_select(0, index)


class BatchNormWrap(torch.nn.Module):  # torch_geometric.nn.norm.BatchNorm: parameters under ".module."
    def __init__(self, c):
        super().__init__()
        self.module = torch.nn.BatchNorm1d(c, eps=1e-5, momentum=0.1)

    def forward(self, x):
        return self.module(x)


class PlainMLP(torch.nn.Module):  # torch_geometric.nn.MLP(channel_list) defaults
    def __init__(self, channels):
        super().__init__()
        self.lins = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(channels[:-1], channels[1:]))
        self.norms = torch.nn.ModuleList(BatchNormWrap(c) for c in channels[1:-1])

    def forward(self, x):
        for lin, norm in zip(self.lins[:-1], self.norms):
            x = torch.relu(norm(lin(x)))
        return self.lins[-1](x)


class PlainGATv2(torch.nn.Module):  # torch_geometric.nn.GATv2Conv(in, C, heads=H, edge_dim=51, add_self_loops=False)
    def __init__(self, cin, C, H, edge_dim=51):
        super().__init__()
        self.H, self.C = H, C
        self.lin_l = torch.nn.Linear(cin, H * C, bias=True)
        self.lin_r = torch.nn.Linear(cin, H * C, bias=True)
        self.lin_edge = torch.nn.Linear(edge_dim, H * C, bias=False)
        self.att = torch.nn.Parameter(torch.empty(1, H, C))
        self.bias = torch.nn.Parameter(torch.zeros(H * C))

    def forward(self, x, edge_index, edge_attr):
        H, C = self.H, self.C
        x_l = self.lin_l(x).view(-1, H, C)
        x_r = self.lin_r(x).view(-1, H, C)
        j, i = edge_index[0], edge_index[1]  # flow source_to_target: messages j -> i
        x_j, x_i = x_l[j], x_r[i]
        e = self.lin_edge(edge_attr).view(-1, H, C)
        m = torch.nn.functional.leaky_relu(x_i + x_j + e, 0.2)
        alpha = seg_softmax((m * self.att).sum(-1), i, x.size(0))
        out = torch.zeros(x.size(0), H, C, dtype=x.dtype).index_add_(0, i, x_j * alpha.unsqueeze(-1))
        return out.view(-1, H * C) + self.bias


class Reference(torch.nn.Module):
    """GATNN_attpool (doc/ml-model.md, Network) with rung's state-dict names."""

    def __init__(self, arch):
        super().__init__()
        self.node_mlp_widths = arch["node_mlp"]
        MLPc = (lambda ch: PygMLP(ch, act="relu")) if HAVE_PYG else PlainMLP
        self.mlp_init_node = MLPc([13] + arch["node_mlp"])
        cin = arch["node_mlp"][-1]
        self.gats = []
        for k, (C, H) in enumerate(arch["gat"]):
            conv = (PygGATv2Conv(cin, C, heads=H, concat=True, edge_dim=51, add_self_loops=False, dropout=0.0)
                    if HAVE_PYG else PlainGATv2(cin, C, H))
            setattr(self, f"gat{k + 1}", conv)
            self.gats.append(conv)
            cin = C * H
        self.mlp_att = MLPc([cin, cin])
        self.mlp1 = MLPc([cin] + arch["out_mlp"] + [arch["output_dim"]])

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        h = self.mlp_init_node(x)
        for conv in self.gats:
            h = conv(h, edge_index, edge_attr)
        a = self.mlp_att(h)
        if HAVE_PYG:
            a = pyg_softmax(a, batch, num_nodes=num_graphs)
            g = pyg_global_add_pool(h * a, batch, size=num_graphs)
        else:
            a = seg_softmax(a, batch, num_graphs)
            g = torch.zeros(num_graphs, h.size(1), dtype=h.dtype).index_add_(0, batch, h * a)
        return torch.nn.functional.leaky_relu(self.mlp1(g), 0.01)


def load_reference(model_path, member=0, dtype=torch.float32):
    with h5py.File(model_path, "r") as f:
        if f.attrs["format"] != "rung-optimate-model":
            raise SystemExit(f"{model_path}: not a rung model file")
        arch = json.loads(f.attrs["architecture"])
        grp = f[f"members/{member}"]
        state = {}
        for name in grp:
            v = grp[name][()]
            if v.dtype == np.float16:  # format v2 stores large tensors in half precision
                v = v.astype(np.float32)
            state[name] = torch.tensor(v.reshape(()) if name.endswith("num_batches_tracked") else v)
    net = Reference(arch)
    net.load_state_dict(state, strict=True)
    net.eval()
    return net.to(dtype), arch


# ---------------------------------------------------------------------------------------------------
def cmd_make_dataset(a):
    """A synthetic data set in rung's layout: smooth random spectra keyed to the composition."""
    recs = read_jsonl(a.jsonl, a.count)
    e = np.linspace(0, 20, 2001)
    rs = np.random.default_rng(a.seed)
    with h5py.File(a.output, "w") as f:
        f.attrs["format"] = "rung-optimate-dataset"
        f.attrs["format_version"] = 1
        f.attrs["rung_version"] = "reference-script"
        f.attrs["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        f["energy_eV"] = e
        g0 = f.create_group("materials")
        for r in recs:
            g = g0.create_group(r["id"])
            g["lattice_angstrom"] = np.asarray(r["lattice"], dtype=np.float64)
            g["frac_coords"] = np.asarray(r["frac_coords"], dtype=np.float64)
            g["numbers"] = np.asarray([Z[s] for s in r["species"]], dtype=np.int32)
            c, w = 3 + 10 * rs.random(), 0.5 + 2 * rs.random()
            ipa = (5 * np.exp(-((e - c) / w) ** 2)).astype(np.float32)
            rpa = (4 * np.exp(-((e - c - 0.3) / w) ** 2)).astype(np.float32)
            g["eps_imag_ipa"], g["eps_imag_rpa"] = ipa, rpa
            g.attrs["sc_ipa_rpa"] = 1 - np.trapz(np.abs(rpa - ipa)) / np.trapz(np.abs(ipa))
            g.attrs["gap_eV"] = float(r.get("pbe_gap_indirect_eV", 1.0))
            g.attrs["provenance"] = json.dumps({"synthetic": True})
    print(f"wrote {len(recs)} materials to {a.output}")


Z = {s: z for z, s in enumerate(
    "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr "
    "Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe".split())}


def cmd_compare(a):
    dtype = torch.float64 if a.float64 else torch.float32
    tol = a.tol if a.tol is not None else (1e-9 if a.float64 else 1e-5)
    recs = read_jsonl(a.jsonl, a.count, spread=True)
    with tempfile.TemporaryDirectory() as tmp:
        sub = os.path.join(tmp, "s.jsonl")
        with open(sub, "w") as fh:
            for r in recs:
                fh.write(json.dumps(r) + "\n")
        out = os.path.join(tmp, "p.h5")
        # --raw: the network's own output (rung clips and smooths predicted spectra by default)
        cmd = [a.rung, "-q", "predict", sub, "--model", a.model, "-o", out, "--raw", "--batch", str(a.batch),
               "--precision", "float64" if a.float64 else "float32"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with h5py.File(out, "r") as f:
            ids = [s.decode() if isinstance(s, bytes) else s for s in f["ids"][()]]
            y_rung = f["sc"][()][:, None] if "sc" in f else f["eps_imag"][()]
    net, arch = load_reference(a.model, dtype=dtype)
    graphs = [build_graph(r["lattice"], r["frac_coords"], r["species"]) for r in recs]
    assert ids == [r["id"] for r in recs]
    ys = []
    with torch.no_grad():
        for s in range(0, len(graphs), a.batch):
            ys.append(net(*collate(graphs[s:s + a.batch], dtype)).double().numpy())
    y_ref = np.concatenate(ys)
    diff = np.abs(y_rung.astype(np.float64) - y_ref)
    scale = np.abs(y_ref).max()
    edges = sum(g[1].shape[1] for g in graphs)
    print(f"reference: {'PyTorch Geometric ' + torch_geometric.__version__ if HAVE_PYG else 'plain-PyTorch re-implementation of the PyG layers'}"
          f" (torch {torch.__version__}), {dtype}")
    sizes = sorted({len(r["species"]) for r in recs})
    print(f"{len(recs)} structures ({sizes[0]}-{sizes[-1]} atoms, every ~{3538 // len(recs)}th of the file), {edges} edges, "
          f"architecture {json.dumps({k: arch[k] for k in ('node_mlp', 'gat', 'out_mlp', 'output_dim')})}")
    print(f"outputs {y_ref.shape}, max |y_ref| = {scale:.4g}")
    print(f"max abs difference {diff.max():.3e}, max rel difference {diff.max() / scale:.3e} (tolerance {tol:g})")
    if diff.max() > tol:
        worst = int(np.unravel_index(diff.argmax(), diff.shape)[0])
        print(f"FAIL: worst structure {recs[worst]['id']}")
        return 1
    print("OK")
    return 0


def cmd_bench(a):
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    net, arch = load_reference(a.model)

    def best(f):
        t = []
        r = None
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            r = f()
            t.append(time.perf_counter() - t0)
        return min(t), r

    def parse():
        out = []
        with open(a.jsonl) as fh:
            for line in fh:
                if line.strip():
                    j = json.loads(line)
                    out.append((np.asarray(j["lattice"], dtype=np.float64), np.asarray(j["frac_coords"], dtype=np.float64),
                                j["species"]))
        return out

    t_parse, recs = best(parse)
    t_graph, graphs = best(lambda: [build_graph(*r) for r in recs])

    def forward():
        with torch.inference_mode():
            for s in range(0, len(graphs), a.batch):
                net(*collate(graphs[s:s + a.batch]))

    t_fwd, _ = best(forward)
    res = {"structures": len(recs), "parse_s": t_parse, "graph_s": t_graph, "forward_s": t_fwd,
           "reference": "PyG" if HAVE_PYG else "plain-PyTorch PyG re-implementation", "torch": torch.__version__}
    with open(a.out, "w") as fh:
        json.dump(res, fh)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sp = p.add_subparsers(dest="cmd", required=True)
    m = sp.add_parser("make-dataset")
    m.add_argument("--jsonl", required=True)
    m.add_argument("--count", type=int, default=200)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("-o", "--output", required=True)
    c = sp.add_parser("compare")
    c.add_argument("--rung", required=True)
    c.add_argument("--model", required=True)
    c.add_argument("--jsonl", required=True)
    c.add_argument("--count", type=int, default=60)
    c.add_argument("--batch", type=int, default=16)
    c.add_argument("--float64", action="store_true")
    c.add_argument("--tol", type=float)
    b = sp.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--jsonl", required=True)
    b.add_argument("--batch", type=int, default=64)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--out", required=True)
    a = p.parse_args()
    if a.cmd == "make-dataset":
        return cmd_make_dataset(a)
    if a.cmd == "compare":
        return cmd_compare(a)
    return cmd_bench(a)


if __name__ == "__main__":
    sys.exit(main() or 0)
