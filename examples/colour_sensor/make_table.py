"""Writes colour_readings.h: TCS3200 readings (red, green, blue from the start; yellow is shown and
labelled by the user from row 300 on) for colour_sensor.ino to replay, from microlearn's simulation."""
from pathlib import Path

from microlearn.learner.envs.colour import colour_stream, export_c_table

N = 600


def stream():
    return colour_stream(N, colours=("red", "green", "blue"), new_colours=("yellow",), new_at=(300,), seed=0)


if __name__ == "__main__":
    s = stream()
    src = export_c_table(s.X, s.y, name="colour_readings", classes=s.info["classes"], drift_points=s.drift_points)
    Path(__file__).with_name("colour_readings.h").write_text(src)
    print(f"colour_readings.h: {len(s.X)} readings, classes {s.info['classes']}")
