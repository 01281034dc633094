"""The point maze: a point moving in a square arena with two walls, batched in torch."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from envs._core.render import AggFigure, check_render_mode, warn_without_render_mode
from envs.qd.tasks import TASKS

ARENA = 1.0  # the arena is [-ARENA, ARENA]^2 (m)
MAX_STEP = 0.1  # largest move per step along each axis (m): actions in [-1, 1] are scaled by it
GOAL = (-0.5, 0.8)  # centre of the goal square (m)
GOAL_WIDTH = 0.1  # side of the goal square (m)
# Walls as rectangles (x_from, x_to, y_low, y_high) in m: 1 cm thick, 1.5 m of each inside the arena,
# attached to its right and left side (they reach past the border, so a point on the border cannot slip into
# a wall's end).
WALLS = ((-0.5, 2 * ARENA, -0.5, -0.49), (-2 * ARENA, 0.5, 0.2, 0.21))
START_X = (-0.1, 0.1)  # the start is uniform in START_X x START_Y (m), below the lower wall
START_Y = (-1.0, -0.7)


def _stop_at_wall(old: torch.Tensor, new: torch.Tensor, wall: tuple[float, ...]) -> torch.Tensor:
    """``new`` with y moved back to the wall's face where the segment old -> new would enter the wall.

    A move from below the wall (``y_old <= y_low``) that reaches above ``y_low`` enters the wall exactly when
    the segment's x over the y-range ``[y_low, min(y_new, y_high)]`` overlaps the wall's open x-range; it then
    ends on the lower face (x kept, so the point slides along the wall). Symmetrically from above.
    """
    x_from, x_to, y_low, y_high = wall
    (x0, y0), (x1, y1) = old.unbind(-1), new.unbind(-1)
    dy = torch.where(y1 == y0, torch.ones_like(y0), y1 - y0)

    def x_at(y: torch.Tensor | float) -> torch.Tensor:
        return x0 + (y - y0) / dy * (x1 - x0)

    def overlaps(xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return (torch.maximum(xa, xb) > x_from) & (torch.minimum(xa, xb) < x_to)

    up = (y0 <= y_low) & (y1 > y_low) & overlaps(x_at(y_low), x_at(torch.clamp(y1, max=y_high)))
    down = (y0 >= y_high) & (y1 < y_high) & overlaps(x_at(y_high), x_at(torch.clamp(y1, min=y_low)))
    y = torch.where(up, torch.full_like(y1, y_low), torch.where(down, torch.full_like(y1, y_high), y1))
    return torch.stack((x1, y), dim=-1)


def maze_step(
    position: torch.Tensor, action: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One step of B points: positions [B, 2] (m) and actions [B, 2] in [-1, 1] (clipped) ->
    (new positions [B, 2], rewards [B] = minus the distance to the goal (m), reached-goal flags [B])."""
    target = torch.clamp(position + MAX_STEP * torch.clamp(action, -1.0, 1.0), -ARENA, ARENA)
    for wall in WALLS:
        target = _stop_at_wall(position, target, wall)
    goal = torch.tensor(GOAL, dtype=position.dtype, device=position.device)
    offset = target - goal
    reward = -torch.linalg.vector_norm(offset, dim=-1)
    reached = (offset.abs() <= GOAL_WIDTH / 2).all(dim=-1)
    return target, reward, reached


def sample_start(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` start positions [n, 2] float32 (m), uniform in START_X x START_Y; the draws of ``n`` single
    calls."""
    return rng.uniform((START_X[0], START_Y[0]), (START_X[1], START_Y[1]), size=(n, 2)).astype(np.float32)


class QDPointMazeEnv(gym.Env):
    """Steer a point through a maze of two walls towards a goal square; the descriptor is where it ends.

    ## Description
    The deceptive point maze of the QD literature (QDax's ``pointmaze``, after Lehman and Stanley's
    "Abandoning objectives" mazes; used by the PGA-ME and DCG-ME benchmarks): a massless point in the square
    [-1, 1]^2 m starts near the bottom centre; two 1.5 m walls (1 cm thick) leave a gap on the left at
    y = -0.5 m and on the right at y = 0.2 m, so the straight path to the goal at (-0.5, 0.8) is blocked. A
    move that would enter a wall stops on its face with x kept (the point slides along it); the arena's border
    clips the position.

    ## Action Space
    ``Box(-1, 1, (2,), float32)``: the displacement (dx, dy) as a fraction of 0.1 m per step.

    ## Observation Space
    ``Box(-1, 1, (2,), float32)``: the position (x, y) in m.

    ## Rewards
    Minus the distance (m) from the new position to the goal centre, so in [-sqrt(1.5^2 + 1.8^2), 0] (clipped
    at that floor, which float32 rounding could pass by an ulp); a 100-step return is at least ``-234.31``
    (the task's ``min_fitness``). ``info["fitness"]`` is the return so far, ``info["descriptor"]`` and
    ``info["step_descriptor"]`` the current position (the episode's descriptor is the final position, within
    [-1, 1]^2).

    ## Starting State
    Uniform in [-0.1, 0.1] x [-1.0, -0.7] m, or ``options={"start": (x, y)}`` in ``reset``.

    ## Episode End
    Terminated when the point is inside the goal square (side 0.1 m); truncated after 100 steps.

    ## Arguments
    ``render_mode``: None (default), ``"ansi"`` (a character map of the maze, ``#`` walls, ``G`` the goal,
    ``@`` the point, then the position) or ``"rgb_array"`` (a 480 x 480 drawing of the arena, walls, goal,
    the episode's path so far and the point). ``gym.make("arena/QDPointMaze-v0")`` (``max_episode_steps`` as
    usual).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 10}
    task = TASKS["pointmaze"]
    privileged_info_keys: ClassVar[frozenset[str]] = frozenset()  # position and return so far: all observed

    def __init__(self, render_mode: str | None = None):
        self.render_mode = check_render_mode(render_mode, self.metadata)
        self._path: list[np.ndarray] = []  # positions of the episode so far (only with rgb_array)
        self._figure: AggFigure | None = None
        self.observation_space = gym.spaces.Box(-ARENA, ARENA, (2,), np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        self._position = torch.zeros(1, 2)
        self._fitness = 0.0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if options and "start" in options:
            start = np.asarray(options["start"], dtype=np.float32)
            if start.shape != (2,) or np.abs(start).max() > ARENA:
                raise ValueError(f"options['start']={options['start']!r} must be an (x, y) in [-1, 1]^2")
        else:
            start = sample_start(self.np_random, 1)[0]
        self._position = torch.as_tensor(start).reshape(1, 2)
        self._fitness = 0.0
        if self.render_mode == "rgb_array":
            self._path = [self._observation()]
        return self._observation(), self._info()

    def step(self, action):
        action = torch.as_tensor(np.asarray(action, dtype=np.float32)).reshape(1, 2)
        self._position, reward, reached = maze_step(self._position, action)
        reward = max(float(reward[0]), -self.task.reward_floor)  # float32 rounding at the far corner
        self._fitness += reward
        if self.render_mode == "rgb_array":
            self._path.append(self._observation())
        return self._observation(), reward, bool(reached[0]), False, self._info()

    def render(self) -> str | np.ndarray | None:
        """The maze and the point as a character map (``"ansi"``) or a (480, 480, 3) uint8 drawing with the
        episode's path (``"rgb_array"``); None without a render mode."""
        if self.render_mode is None:
            warn_without_render_mode(self.metadata)
            return None
        x, y = self._observation()
        if self.render_mode == "ansi":
            return f"{_ascii_map(x, y)}\nposition ({x:.3f}, {y:.3f}) m, return so far {self._fitness:.3f}"
        if self._figure is None:
            self._figure = self._draw_maze()
        path = np.array(self._path)
        self._trail.set_data(path[:, 0], path[:, 1])
        self._point.set_data([x], [y])
        return self._figure.to_rgb()

    def _draw_maze(self) -> AggFigure:
        """The static drawing (arena, walls, goal) with empty artists for the path and the point."""
        from matplotlib.patches import Rectangle

        figure = AggFigure(1, width=480, height=480)
        figure.figure.subplots_adjust(left=0.15)
        ax = figure.axes[0]
        ax.set(xlim=(-ARENA, ARENA), ylim=(-ARENA, ARENA), aspect="equal", xlabel="x (m)", ylabel="y (m)")
        for x_from, x_to, y_low, y_high in WALLS:
            x_from, x_to = max(x_from, -ARENA), min(x_to, ARENA)
            ax.add_patch(Rectangle((x_from, y_low), x_to - x_from, y_high - y_low, color="black"))
        ax.add_patch(
            Rectangle((START_X[0], START_Y[0]), START_X[1] - START_X[0], START_Y[1] - START_Y[0], alpha=0.15)
        )
        half = GOAL_WIDTH / 2
        ax.add_patch(Rectangle((GOAL[0] - half, GOAL[1] - half), GOAL_WIDTH, GOAL_WIDTH, color="tab:green"))
        (self._trail,) = ax.plot([], [], "-", color="tab:blue", alpha=0.5)
        (self._point,) = ax.plot([], [], "o", color="tab:red", clip_on=False)
        return figure

    def _observation(self) -> np.ndarray:
        return self._position[0].numpy().copy()

    def _info(self) -> dict[str, Any]:
        position = self._observation()
        return {"descriptor": position, "step_descriptor": position.copy(), "fitness": self._fitness}


def _ascii_map(x: float, y: float, columns: int = 41, rows: int = 21) -> str:
    """The arena as ``rows`` lines of ``columns`` characters, top row y = 1: walls, goal and the point."""
    xs = np.linspace(-ARENA, ARENA, columns)
    ys = np.linspace(ARENA, -ARENA, rows)
    cell_x, cell_y = xs[1] - xs[0], ys[0] - ys[1]
    grid = np.full((rows, columns), ".")
    for x_from, x_to, y_low, y_high in WALLS:
        row = np.abs(ys - (y_low + y_high) / 2).argmin()
        grid[row, (xs > x_from) & (xs < x_to)] = "#"
    goal = (np.abs(xs - GOAL[0]) <= max(GOAL_WIDTH, cell_x) / 2)[None, :] & (
        np.abs(ys - GOAL[1]) <= max(GOAL_WIDTH, cell_y) / 2
    )[:, None]
    grid[goal] = "G"
    grid[np.abs(ys - y).argmin(), np.abs(xs - x).argmin()] = "@"
    return "\n".join("".join(line) for line in grid)


class PointMazeBatch:
    """B point mazes as tensors on ``device``, for :class:`envs.qd.evaluator.BatchEvaluator`."""

    descriptor_is_mean = False  # the descriptor is the final position

    def __init__(self, device: torch.device):
        self.device = device
        self.position = torch.zeros(0, 2, device=device)

    def reset(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        self.position = torch.as_tensor(sample_start(rng, n), device=self.device)
        return self.position

    def start_descriptor(self, n: int) -> torch.Tensor:
        return self.position

    def step(self, action: torch.Tensor, alive: torch.Tensor):
        """(next obs [B, 2], reward [B], terminated [B], step descriptor [B, 2]); all rows move."""
        self.position, reward, reached = maze_step(self.position, action)
        return self.position, reward, reached, self.position
