from transparencia.cli import app

app()
