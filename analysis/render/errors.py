"""The one error type the renderer raises for bad inputs."""


class RenderInputError(ValueError):
    """A findings file, .qmd or figure the renderer cannot use; the message says what to do."""

    def __init__(self, file: str, problem: str, hint: str = "") -> None:
        self.file = file
        self.problem = problem
        self.hint = hint
        message = f"{file}: {problem}"
        if hint:
            message += f" What to do: {hint}"
        super().__init__(message)
