"""Reference values for OptimizerTests.cs and SchedulerTests.cs, computed with PyTorch (python3-torch 1.13).
Run: /usr/bin/python3 tests/Era.Tests/Engine/Reference/optim_reference.py
Prints C# array literals; the tests pin them. The parameters start at P0 and receive the fixed gradients GRADS,
one per step (independent of the parameters, so both sides see exactly the same inputs)."""
import torch

P0 = [0.5, -1.0, 2.0, 0.0]
GRADS = [[0.1, -0.2, 0.3, 1.0], [0.05, 0.4, -0.3, 0.5], [-0.2, 0.1, 0.25, -1.5], [0.3, -0.05, 0.0, 2.0]]


def cs(name, values):
    print(f'    // {name}')
    print('    [' + ', '.join(repr(float(v)) for v in values) + '],')


def run_optimizer(name, make):
    p = torch.nn.Parameter(torch.tensor(P0, dtype=torch.float32))
    opt = make([p])
    out = []
    for g in GRADS:
        opt.zero_grad()
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        out += p.detach().tolist()  # float32 values, printed exactly as doubles
    cs(name, out)


print(f'// torch {torch.__version__}')
print('// optimizers: parameter values after steps 1..4, flattened')
run_optimizer('SGD lr 0.1', lambda ps: torch.optim.SGD(ps, lr=0.1))
run_optimizer('SGD lr 0.1 momentum 0.9', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))
run_optimizer('SGD lr 0.1 momentum 0.9 dampening 0.5', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5))
run_optimizer('SGD lr 0.1 momentum 0.9 nesterov', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
run_optimizer('SGD lr 0.1 momentum 0.9 weight_decay 0.01', lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01))
run_optimizer('Adam lr 0.01', lambda ps: torch.optim.Adam(ps, lr=0.01))
run_optimizer('Adam lr 0.01 weight_decay 0.1', lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1))
run_optimizer('Adam lr 0.01 betas (0.8, 0.99) amsgrad', lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), amsgrad=True))
run_optimizer('AdamW lr 0.01 weight_decay 0.1', lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1))


def sched_curve(name, make_opt, make_sched, steps, momentum_key):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = make_opt([p])
    s = make_sched(opt)
    lrs, moms = [], []
    for i in range(steps + 1):
        g = opt.param_groups[0]
        lrs.append(g['lr'])
        moms.append(g['betas'][0] if momentum_key == 'betas' else g['momentum'])
        if i < steps:
            p.grad = torch.zeros(1)
            opt.step()
            s.step()
    cs(name + ' lr', lrs)
    cs(name + ' momentum', moms)


print('// schedulers: learning rate (and momentum) after construction and after each step')
sgd = lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)
adam = lambda ps: torch.optim.Adam(ps, lr=0.001)
sched_curve('OneCycleLR SGD max_lr 0.1 total_steps 20', sgd,
            lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=20), 20, 'momentum')
sched_curve('OneCycleLR Adam max_lr 0.01 total_steps 15', adam,
            lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=15), 15, 'betas')
sched_curve('OneCycleLR SGD max_lr 1 total_steps 12 three_phase linear pct_start 0.25', sgd,
            lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=12, three_phase=True,
                                                          anneal_strategy='linear', pct_start=0.25), 12, 'momentum')
sched_curve('StepLR lr 0.05 step_size 3 gamma 0.5', sgd,
            lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10, 'momentum')

METRICS = [1.0, 0.9, 0.95, 0.9, 0.91, 0.8999, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78]
p = torch.nn.Parameter(torch.zeros(1))
opt = torch.optim.SGD([p], lr=0.1)
s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.02)
lrs = []
for m in METRICS:
    s.step(m)
    lrs.append(opt.param_groups[0]['lr'])
cs('ReduceLROnPlateau lr 0.1 factor 0.5 patience 2 cooldown 1 min_lr 0.02, after each of METRICS', lrs)
