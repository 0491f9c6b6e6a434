"""Which files are videos and which are still images, by suffix (lower case)."""
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg",
                              ".wmv", ".flv", ".ts", ".m2ts", ".mts", ".3gp", ".ogv", ".mxf",
                              ".nut", ".y4m"})
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".tif", ".tiff", ".webp"})
