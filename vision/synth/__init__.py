"""The synthetic kitchen world: procedurally rendered kitchens with exact ground truth.

No real kitchen footage can be downloaded where this project is built, so it renders its own:
four kinds of kitchen, people with varied bodies, clothes, hats, masks and poses, pests, bins and
hard negatives, all drawn with OpenCV into an image and an id buffer at once, so every visible
box is known exactly (occlusion included). Same seed + config → same frames and ground truth.
"""
